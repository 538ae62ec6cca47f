from .navigation import items_for


def navigation(request):
    """The menu, with the entry of the page being shown marked: the entry that names this view, else the one
    whose address is the longest beginning of the path (工作台, at "/", only for itself)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    path = request.path
    items = items_for(user)
    match = getattr(request, "resolver_match", None)
    view = match.view_name if match else ""
    best = next((i for i in items if view in i["also"]), None) or max(
        (i for i in items if path.startswith(i["url"]) and (i["url"] != "/" or path == "/")),
        key=lambda i: len(i["url"]),
        default=None,
    )
    for item in items:
        item["active"] = item is best
    return {"nav_items": items}
