"""The admin's "Import catalog" form: a CSV, an optional zip of photos, and the deactivate option."""

import zipfile

from django import forms
from django.conf import settings

# Upload limits (settings may override): a CSV of a few hundred thousand rows, a zip of photos.
MAX_CSV_BYTES = 200 * 1024 * 1024
MAX_ZIP_UPLOAD_BYTES = 4 * 1024**3


class CatalogImportForm(forms.Form):
    """Files for one import job; checks sizes and that the zip is a zip before anything is stored."""

    csv_file = forms.FileField(
        label="Catalog CSV",
        help_text="styles.csv (Fashion Product Images layout) or a CSV with id, name, image and attribute columns.",
    )
    images_zip = forms.FileField(
        label="Zip of photos",
        required=False,
        help_text="Paths inside the zip as in the CSV (e.g. images/10000.jpg). Optional for updates of fields only.",
    )
    deactivate_missing = forms.BooleanField(
        required=False, help_text="This is the full catalog: deactivate (never delete) products missing from it."
    )

    def clean_csv_file(self):
        """A non-empty CSV under the size limit."""
        upload = self.cleaned_data["csv_file"]
        limit = getattr(settings, "LOOKAWAY_MAX_IMPORT_CSV_BYTES", MAX_CSV_BYTES)
        if upload.size == 0:
            raise forms.ValidationError("The CSV file is empty.")
        if upload.size > limit:
            raise forms.ValidationError(f"The CSV file is {upload.size:,} bytes; the limit is {limit:,}.")
        return upload

    def clean_images_zip(self):
        """A readable zip under the size limit (or nothing)."""
        upload = self.cleaned_data.get("images_zip")
        if not upload:
            return None
        limit = getattr(settings, "LOOKAWAY_MAX_IMPORT_ZIP_BYTES", MAX_ZIP_UPLOAD_BYTES)
        if upload.size > limit:
            raise forms.ValidationError(f"The zip is {upload.size:,} bytes; the limit is {limit:,}.")
        if not zipfile.is_zipfile(upload):
            raise forms.ValidationError("This is not a zip file.")
        upload.seek(0)
        return upload
