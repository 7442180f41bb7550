"""Push an existing, packaged ``save_dir`` to the Hub: ``python -m calt_hf.push SAVE_DIR USER/NAME``.

The token comes from ``HF_TOKEN`` or ``hf auth login``, never from the command line, so it
stays out of shell history and logs.
"""

from __future__ import annotations

import argparse
import sys

from calt_hf.hf.hub import HubPushError, push_to_hub


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m calt_hf.push", description=__doc__)
    parser.add_argument("save_dir", help="a folder holding README.md and data/ (a packaged run)")
    parser.add_argument("repo_id", help="the Hub dataset, user/name")
    parser.add_argument("--private", action="store_true", help="create the repository as private")
    parser.add_argument("--include-raw", action="store_true", help="also upload the pickles, text and JSON Lines")
    args = parser.parse_args(argv)
    try:
        url = push_to_hub(args.save_dir, args.repo_id, private=args.private, include_raw=args.include_raw)
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
