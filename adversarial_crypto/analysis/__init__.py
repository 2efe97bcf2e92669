"""Tools on trained ciphers: the public API (load_run, encrypt, ...), key search, analyses, figures."""
