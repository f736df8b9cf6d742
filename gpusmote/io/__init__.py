"""File I/O for ``gpusmote resample``: pyarrow readers and writers, the two streaming passes, progress bars."""
