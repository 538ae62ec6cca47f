"""What the Content-Security-Policy needs of a page (issue 21.8): the header without 'unsafe-inline' (nor
'unsafe-eval'), and HTML without a style attribute, an inline event handler (onclick=…), a <style> block or an inline <script> (a nonce excepted; a
JSON data block from ``json_script`` is not run and is allowed)."""

from __future__ import annotations

import re

STYLE_ATTRIBUTE = re.compile(r"<[a-zA-Z][^>]*\sstyle\s*=", re.S)
EVENT_HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.S)
STYLE_BLOCK = re.compile(r"<style\b(?![^>]*\bnonce=)", re.I)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.I)


def csp_problems(response) -> list[str]:
    """Why this response breaks the policy (empty: it does not). Only HTML pages are looked into."""
    problems = []
    policy = response.get("Content-Security-Policy", "")
    if not policy:
        problems.append("no Content-Security-Policy header")
    if "unsafe-inline" in policy or "unsafe-eval" in policy:
        problems.append(f"unsafe policy: {policy}")
    if not response.get("Content-Type", "").startswith("text/html"):
        return problems
    html = response.content.decode("utf-8", "replace")
    if match := STYLE_ATTRIBUTE.search(html):
        problems.append(f"style attribute: {match.group(0)[:120]}")
    if match := EVENT_HANDLER.search(html):
        problems.append(f"inline event handler: {match.group(0)[:120]}")
    if STYLE_BLOCK.search(html):
        problems.append("<style> block")
    for attrs in SCRIPT_TAG.findall(html):
        if "src=" in attrs or "nonce=" in attrs or 'type="application/json"' in attrs:
            continue
        problems.append(f"inline <script{attrs}>")
    return problems
