"""theralab: one platform that carries a therapy from molecule to patient with AI.

The top-level namespace stays light on purpose: `import theralab` must not import RDKit, torch or
the web stack, so the CLI starts fast. Import the domain packages you need directly, for example
``from theralab.chem import descriptors``.
"""

__version__ = "0.1.0"
