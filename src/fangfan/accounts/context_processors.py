from .navigation import items_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    path = request.path
    items = items_for(user)
    best = max((i for i in items if path.startswith(i["url"])), key=lambda i: len(i["url"]), default=None)
    for item in items:
        item["active"] = item is best
    return {"nav_items": items}
