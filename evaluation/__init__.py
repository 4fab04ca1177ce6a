"""Framework-free evaluation tools: the simulated-shopper protocol and the feedback gallery."""
