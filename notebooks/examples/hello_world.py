"""The book's first program, hello_world.go, in Python: run it with `python examples/hello_world.py`."""

print("Hello world!")
