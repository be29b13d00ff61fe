"""zhipu_images: validated image generation for Zhipu BigModel and OpenAI-compatible endpoints."""

__version__ = "0.1.0"
