"""Hand-made input files and reference algorithms for tests."""
import struct
import zlib

import torch


def huge_png(w: int = 40000, h: int = 30000) -> bytes:
    """A valid 1-bit grey PNG of w x h pixels (1.2e9 > 2^30), ~150 KB: zlib + struct."""
    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data
                + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))
    row = b'\x00' * (1 + (w + 7) // 8)  # filter byte + packed bits
    z = zlib.compressobj(9)
    idat = b''.join(z.compress(row) for _ in range(h)) + z.flush()
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 1, 0, 0, 0, 0))
            + chunk(b'IDAT', idat) + chunk(b'IEND', b''))


def greedy_nms(boxes: torch.Tensor, scores: torch.Tensor, iou_thr: float) -> torch.Tensor:
    """Class-agnostic NMS by its definition (not the implementation under test).

    Args:
        boxes (Tensor): (N, 4) x1, y1, x2, y2 in pixels.
        scores (Tensor): (N,).
        iou_thr (float): A box overlapping a kept one by more is dropped.

    Returns:
        Tensor: (K,) long indices of the kept boxes, best first.
    """
    def iou(a, b):
        w = (min(a[2], b[2]) - max(a[0], b[0])).clamp(min=0)
        h = (min(a[3], b[3]) - max(a[1], b[1])).clamp(min=0)
        inter = w * h
        return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
    keep = []
    for i in scores.argsort(descending=True).tolist():
        if all(iou(boxes[i], boxes[j]) <= iou_thr for j in keep):
            keep.append(i)
    return torch.tensor(keep, dtype=torch.long)
