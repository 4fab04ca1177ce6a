import os

from django.core.wsgi import get_wsgi_application

from config.tensorflow_logs import quiet_tensorflow_logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
quiet_tensorflow_logs()
application = get_wsgi_application()
