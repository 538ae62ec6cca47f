"""The ``fangfan`` console script: Django's manage.py under another name (spec/CLI.md)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangfan.settings")
    from django.core.exceptions import ImproperlyConfigured

    from fangfan.core.privatefiles import restrict_umask

    restrict_umask()  # the database, uploads, exports: readable by this account only (security issue 16.14)

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["fangfan", *sys.argv[1:]])
    except ImproperlyConfigured as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
