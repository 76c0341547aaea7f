"""Scripts the Windows tier runs on Windows CPython under Wine; each prints JSON last."""
