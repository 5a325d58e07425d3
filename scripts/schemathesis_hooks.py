"""Loaded by scripts/schemathesis.sh through SCHEMATHESIS_HOOKS.

Some CPython 3.11 releases raise ``SystemError: AST constructor recursion depth
mismatch`` (python/cpython gh-106905) when ``ast.parse`` runs deep in a
recursion, which Hypothesis does to describe a lambda of a strategy. The
description is a label for messages only: an unknown one is harmless, a
SystemError would end the operation's test as an error.
"""

import hypothesis.internal.lambda_sources as lambda_sources

_describe = lambda_sources._lambda_description


def _describe_or_unknown(f):
    try:
        return _describe(f)
    except SystemError:
        return "lambda: <unknown>"


lambda_sources._lambda_description = _describe_or_unknown
