"""Ports: what handler code reaches data through. One subpackage per port."""
