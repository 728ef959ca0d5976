"""A tiny exception tree. Messages name the problem and the fix; the CLI prints them as one line."""


class RagError(Exception):
    """Base class for every error this package raises on purpose."""


class CorpusError(RagError):
    """The corpus directory is missing, empty, or holds nothing readable."""


class IndexNotFoundError(RagError):
    """No index exists where one was expected."""


class IndexMismatchError(RagError):
    """The index was built with other settings (embedder, chunker, format) than this run asks for."""


class IndexCorruptError(RagError):
    """An index file is missing or unreadable."""


def damaged_index(path, index_dir) -> str:
    """The message of an IndexCorruptError: which file, and the command that mends it."""
    return f"index file {path} is damaged or incomplete; rebuild it with: rag index --rebuild --index {index_dir}"


class StoreUnavailableError(RagError):
    """A vector store server cannot be reached."""


class ModelNotAvailableError(RagError):
    """A model could not be loaded from local files."""


class InvalidInputError(RagError):
    """A question, date or setting given by the user is not acceptable."""


class IndexBusyError(RagError):
    """Another process is writing the index, and the caller asked not to wait."""


class ModelDownloadError(RagError):
    """`rag models pull` could not fetch a model, or a file it fetched is not the one the hub listed."""
