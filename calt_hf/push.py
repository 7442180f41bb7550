"""Push an existing, packaged ``save_dir`` to the Hub: ``python -m calt_hf.push SAVE_DIR USER/NAME``.

The token comes from ``HF_TOKEN`` or ``hf auth login`` (or the variable / file named by ``--token-env`` /
``--token-file``), never from the command line, so it stays out of shell history and logs; everything
printed passes through ``calt_hf.redaction``. The card's load instructions are pointed at the repo id, as
``hub.push=true`` does. Exit status: 0 pushed, 2 bad arguments (nothing sent), 3 the push failed.
"""

from __future__ import annotations

import argparse
import sys

from calt_hf import redaction
from calt_hf.hf.hub import HubPushError, TokenSource, check_timeout, push_to_hub


def mask_named_tokens(argv: list[str]) -> None:
    """Register for redaction the tokens that ``--token-env`` / ``--token-file`` name, before the arguments are
    parsed: a token pasted among them is then masked in argparse's error too, whatever its shape."""
    for flag, where in (("--token-env", "env"), ("--token-file", "file")):
        for position, word in enumerate(argv):
            name, equals, value = word.partition("=")
            if len(name) <= len("--token-") or not flag.startswith(name):  # argparse takes --token-e for --token-env
                continue
            if equals:
                redaction.add_secret_from(**{where: value})
            elif position + 1 < len(argv):
                redaction.add_secret_from(**{where: argv[position + 1]})


def main(argv: list[str] | None = None) -> int:
    redaction.install()
    mask_named_tokens(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m calt_hf.push", description=__doc__)
    parser.add_argument("save_dir", help="a folder holding README.md and data/ (a packaged run)")
    parser.add_argument("repo_id", help="the Hub dataset, user/name")
    parser.add_argument("--private", action="store_true", help="create the repository as private")
    parser.add_argument("--include-raw", action="store_true", help="also upload the pickles, text and JSON Lines")
    parser.add_argument("--token-env", metavar="VARIABLE", help="the environment variable holding the token")
    parser.add_argument("--token-file", metavar="PATH", help="a file holding the token")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a request may take to connect and to read")
    parser.add_argument("--retries", type=int, default=3, help="retries after a 5xx answer, a timeout or a dropped connection")
    args = parser.parse_args(argv)
    source = TokenSource(args.token_env, args.token_file, keys=("--token-env", "--token-file"))
    try:
        check_timeout("--timeout", args.timeout)
        if args.retries < 0:
            raise ValueError(f"--retries={args.retries} is not allowed; use 0 or more")
        url = push_to_hub(args.save_dir, args.repo_id, args.private, source, args.include_raw, args.timeout, args.retries)
    except ValueError as error:  # not a packaged folder, a malformed repo id: nothing was sent
        print(f"error: {error}", file=sys.stderr)
        return 2
    except HubPushError as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    print(f"pushed {args.save_dir} to {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
