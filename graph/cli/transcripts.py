"""Commands that move transcripts in and out: import, export, demo (see the importer)."""
