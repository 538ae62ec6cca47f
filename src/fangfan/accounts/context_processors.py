from functools import cache

from .navigation import items_for


def navigation(request):
    """The menu, with the entry of the page being shown marked: the entry that names this view, else the one
    whose address is the longest beginning of the path (工作台, at "/", only for itself).

    Worked out only when a template shows it (the template engine calls a callable variable): a fragment that
    htmx loads into a page renders no menu, and its counts (我的待办 …) would be queries for nothing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    if getattr(request, "second_factor_pending", False):
        # Before the second factor the menu (and its counts of what is late) is not shown.
        return {"nav_items": [], "nav_menu": [], "second_factor_pending": True}

    @cache
    def items() -> list[dict]:
        return _marked(request, items_for(user))

    return {"nav_items": items, "nav_menu": lambda: menu(items())}


def _marked(request, items: list[dict]) -> list[dict]:
    path = request.path
    match = getattr(request, "resolver_match", None)
    view = match.view_name if match else ""
    best = next((i for i in items if view in i["also"]), None) or max(
        (i for i in items if path.startswith(i["url"]) and (i["url"] != "/" or path == "/")),
        key=lambda i: len(i["url"]),
        default=None,
    )
    for item in items:
        item["active"] = item is best
    return items


def menu(items: list[dict]) -> list[dict]:
    """The entries grouped by their section, in the order of their first entry: a section of one entry is a plain
    link, a larger one a drop-down (a clerk sees 14 entries at most, which no longer fit a line)."""
    entries: list[dict] = []
    sections: dict[str, dict] = {}
    for item in items:
        group = item["group"]
        if not group:
            entries.append(item)
            continue
        if group not in sections:
            sections[group] = {"label": group, "children": [], "active": False, "count": 0}
            entries.append(sections[group])
        section = sections[group]
        section["children"].append(item)
        section["active"] = section["active"] or item["active"]
        count = item["count"] or 0
        if isinstance(count, str) or isinstance(
            section["count"], str
        ):  # "99+": the section has at least as many
            section["count"] = count if isinstance(count, str) else section["count"]
        else:
            section["count"] += count
    return [e["children"][0] if "children" in e and len(e["children"]) == 1 else e for e in entries]
