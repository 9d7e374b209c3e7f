"""The back ends' names, apart from their code: the command line lists them without importing any.

PROMPTED_BACKENDS maps each prompted back end's name to the module whose
`load_prompted(model: str, options: Mapping[str, Any]) -> PromptedModel` loads it
(alttext.caption.backends.load_prompted_model imports it only when it is chosen).
"""

PROMPTED_BACKENDS = {"openai": "alttext.caption.openai_backend", "vlm": "alttext.caption.hf_prompted"}
BACKENDS = ("auto", "torch", "onnx", *PROMPTED_BACKENDS)
