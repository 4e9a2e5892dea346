"""The NLU's own error tree (``nlu`` never imports ``bots``; the CLI translates these)."""

from __future__ import annotations

__all__ = ["NLUError", "NotTrained", "BadTrainingData", "UnknownLanguage", "UnreadableText"]


class NLUError(Exception):
    """Base class: raised for any failure the NLU package reports."""


class NotTrained(NLUError):
    """Raised when a model is loaded but no trained pipeline exists for a language.

    The message names the language, the folder looked at, and the fix.
    """

    def __init__(self, language: str, model_dir: str, reason: str = "no trained pipeline") -> None:
        self.language = language
        self.model_dir = model_dir
        super().__init__(
            f"NLU model for language {language!r} is not trained ({reason} in {model_dir}): run `brandbot nlu train`"
        )


class BadTrainingData(NLUError):
    """Raised when a training file is missing or malformed.

    The message names the file, the place in it (line or key) and what is valid.
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"bad NLU training data in {path}: {problem}")


class UnknownLanguage(NLUError):
    """Raised when a language is asked for that the NLU was not configured or trained for."""

    def __init__(self, language: str, valid: list[str]) -> None:
        self.language = language
        self.valid = list(valid)
        super().__init__(f"unknown NLU language {language!r}; configured languages: {', '.join(valid) or '(none)'}")


class UnreadableText(NLUError, ValueError):
    """Raised when a text to parse holds a lone surrogate (not a character; undecodable input).

    Channels refuse such text at the door; this keeps the NLU's own answer clear for other callers.
    """
