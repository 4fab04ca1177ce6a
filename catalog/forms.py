"""The admin's "Import catalog" form: a CSV, an optional zip of photos, and the deactivate option."""

import zipfile

from django import forms
from django.conf import settings
from django.forms.utils import ErrorDict

# Upload limits (settings may override): a CSV of a few hundred thousand rows, a zip of photos.
MAX_CSV_BYTES = 200 * 1024 * 1024
MAX_ZIP_UPLOAD_BYTES = 4 * 1024**3


def import_field_limits() -> dict[str, tuple[str, int, str]]:
    """Per file field: its label in messages, its size limit and the setting that sets it."""
    csv_limit = getattr(settings, "LOOKAWAY_MAX_IMPORT_CSV_BYTES", MAX_CSV_BYTES)
    zip_limit = getattr(settings, "LOOKAWAY_MAX_IMPORT_ZIP_BYTES", MAX_ZIP_UPLOAD_BYTES)
    return {
        "csv_file": ("The CSV file", csv_limit, "LOOKAWAY_MAX_IMPORT_CSV_BYTES"),
        "images_zip": ("The zip", zip_limit, "LOOKAWAY_MAX_IMPORT_ZIP_BYTES"),
    }


class CatalogImportForm(forms.Form):
    """Files for one import job; checks sizes and that the zip is a zip before anything is stored.

    `upload_refused`: the upload was stopped at a size limit (catalog.uploads); its files are incomplete, so the
    form is invalid with only that reason.
    """

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

    def __init__(self, *args, upload_refused: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.upload_refused = upload_refused

    def full_clean(self) -> None:
        if not self.upload_refused:
            return super().full_clean()
        self._errors, self.cleaned_data = ErrorDict(), {}
        self.add_error(None, self.upload_refused)

    def clean_csv_file(self):
        """A non-empty CSV under the size limit."""
        upload = self.cleaned_data["csv_file"]
        limit = import_field_limits()["csv_file"][1]
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
        limit = import_field_limits()["images_zip"][1]
        if upload.size > limit:
            raise forms.ValidationError(f"The zip is {upload.size:,} bytes; the limit is {limit:,}.")
        if not zipfile.is_zipfile(upload):
            raise forms.ValidationError("This is not a zip file.")
        upload.seek(0)
        return upload
