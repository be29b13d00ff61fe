"""``python -m zhipu_images``: the same as the ``zhipu-images`` command."""

from .cli import main

main()
