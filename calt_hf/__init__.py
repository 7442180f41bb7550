"""calt_hf: reproducible computer-algebra datasets for Transformers, packaged for the Hugging Face Hub.

Backends live in ``calt_hf.sympy`` and ``calt_hf.sagemath``; importing this package imports neither.
"""

__version__ = "0.1.0"
