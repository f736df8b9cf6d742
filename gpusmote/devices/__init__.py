"""Devices: the backends (array module + kernels) a resample runs on, device choice, and device-resident input."""
