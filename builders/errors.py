"""Every failure the farm reports, one class each, with its own exit code.

A FarmError's message says what happened, the likely cause and the command
that fixes it; tasks turn it into `invoke.Exit(message, code)`.

    FarmError                      base (exit 1)
    ├── ConfigError           (2)  a bad target, recipe, manifest or option
    ├── ToolMissing           (3)  a program or package the farm needs is absent
    ├── ReleaseKeyError       (4)  the release signing key is missing or cannot sign
    ├── BuildersDisagree      (5)  builders made different bytes for an artifact: nothing signed
    ├── SourceError           (10) could not obtain a source from any mirror
    ├── VerificationError     (11) sha256 or size mismatch: the file is not used
    ├── SignatureError        (12) missing or bad OpenPGP signature
    ├── StepFailed            (20) a build step's script failed
    ├── ExecutorError         (21) the executor itself failed (mounts, link)
    ├── CacheError            (22) the cache is unusable (disk full, perms)
    └── InputsChanged         (23) an input folder (app, runtime) changed while a step read it
"""


class FarmError(Exception):
    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(FarmError):
    exit_code = 2


class ToolMissing(FarmError):
    exit_code = 3


class ReleaseKeyError(FarmError):
    exit_code = 4


class BuildersDisagree(FarmError):
    exit_code = 5


class SourceError(FarmError):
    exit_code = 10


class VerificationError(SourceError):
    exit_code = 11


class SignatureError(SourceError):
    exit_code = 12


class StepFailed(FarmError):
    exit_code = 20

    def __init__(self, message: str, log_path=None):
        super().__init__(message)
        self.log_path = log_path


class ExecutorError(FarmError):
    exit_code = 21


class CacheError(FarmError):
    exit_code = 22


class InputsChanged(FarmError):
    exit_code = 23
