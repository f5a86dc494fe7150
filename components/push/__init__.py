"""Pushing blessed models into the serving folder, one atomic numbered version at a time."""

from components.push.component import AtomicPusher

__all__ = ["AtomicPusher"]
