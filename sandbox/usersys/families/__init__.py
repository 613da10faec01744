"""One module per event family; each exposes ``on_<family>(ctx)`` functions."""
