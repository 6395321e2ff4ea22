"""Server-rendered pages for coaches and internal coaches (English and Traditional Chinese)."""
