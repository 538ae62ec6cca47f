from .client import client_ip

__all__ = ["client_ip"]
