"""Audio prompts: recordings uploaded by the province take precedence; otherwise Vietnamese speech
synthesised offline with espeak-ng (Debian package), generated at build or seed time and cached as files.
Synthetic audio is always labelled as such on the form.

Files live under ``<audio_dir>/uploaded/`` and ``<audio_dir>/synthetic/`` named by a key derived from the
questionnaire, item, option and language, so a new questionnaire version never plays stale audio.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..i18n import N_
from ..questionnaire import ItemType, Questionnaire

SCALE_LABELS = ("Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng")
ESPEAK_VOICES = {"vi": "vi", "en": "en"}
KEY_PATTERN = re.compile(r"^[a-f0-9]{24}$")
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
UPLOAD_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".m4a": "audio/mp4"}


class AudioError(Exception):
    """A Vietnamese message for the user."""


def prompt_key(text: str, lang: str) -> str:
    """Files are keyed by the spoken text itself: same words, same file, whatever the item."""
    return hashlib.sha256(f"{lang}|{text}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Prompt:
    key: str
    text: str
    lang: str


def prompts_for(questionnaire: Questionnaire, lang: str) -> list[Prompt]:
    """Every text a respondent may need to hear: questions and answer labels."""
    seen: dict[str, Prompt] = {}
    texts: list[str] = []
    for item in questionnaire.items:
        texts.append(item.text.get(lang))
        if item.type in (ItemType.single, ItemType.multi):
            texts += [o.label.get(lang) for o in item.options]
    texts += list(SCALE_LABELS) if lang == "vi" else []
    for text in texts:
        key = prompt_key(text, lang)
        seen.setdefault(key, Prompt(key, text, lang))
    return list(seen.values())


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def _compact_wav(raw: bytes) -> bytes:
    """espeak-ng writes 22,050 Hz 16-bit mono; halve the rate and store 8-bit PCM (a quarter of the size,
    still clear for speech) so a prompt costs ~11 KB per second on a weak connection."""
    with wave.open(io.BytesIO(raw)) as src:
        rate, width, frames = src.getframerate(), src.getsampwidth(), src.readframes(src.getnframes())
    if width != 2:
        return raw
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float64)
    if samples.size % 2:
        samples = samples[:-1]
    halved = samples.reshape(-1, 2).mean(axis=1)
    unsigned = np.clip(np.round(halved / 256.0) + 128, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    with wave.open(out, "wb") as dst:
        dst.setnchannels(1)
        dst.setsampwidth(1)
        dst.setframerate(rate // 2)
        dst.writeframes(unsigned.tobytes())
    return out.getvalue()


def synthesise(text: str, lang: str) -> bytes:
    if not espeak_available():
        raise AudioError(N_("Chưa cài espeak-ng: không tạo được giọng đọc tổng hợp."))
    voice = ESPEAK_VOICES.get(lang, "vi")
    result = subprocess.run(  # noqa: S603  (fixed program, text passed as one argument, no shell)
        [shutil.which("espeak-ng") or "espeak-ng", "-v", voice, "-s", "150", "--stdout", text],
        capture_output=True, timeout=30, check=False,
    )
    if result.returncode != 0 or not result.stdout:
        raise AudioError(N_("Không tạo được giọng đọc tổng hợp."))
    return _compact_wav(result.stdout)


def build(questionnaire: Questionnaire, *, audio_dir: Path, lang: str = "vi") -> tuple[int, int]:
    """Generate missing synthetic prompts. Returns (created, already there)."""
    target = audio_dir / "synthetic"
    target.mkdir(parents=True, exist_ok=True)
    created = existing = 0
    for prompt in prompts_for(questionnaire, lang):
        path = target / f"{prompt.key}.wav"
        if path.exists():
            existing += 1
            continue
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(synthesise(prompt.text, prompt.lang))
        tmp.replace(path)  # atomic: a worker never serves half a file
        created += 1
    return created, existing


@dataclass(frozen=True)
class AudioFile:
    path: Path
    media_type: str
    synthetic: bool


def find(audio_dir: Path, key: str) -> AudioFile | None:
    """The uploaded recording if there is one, else the synthetic file, else None."""
    if not KEY_PATTERN.fullmatch(key):
        return None
    for suffix, media_type in UPLOAD_TYPES.items():
        uploaded = audio_dir / "uploaded" / f"{key}{suffix}"
        if uploaded.exists():
            return AudioFile(uploaded, media_type, synthetic=False)
    synthetic = audio_dir / "synthetic" / f"{key}.wav"
    return AudioFile(synthetic, "audio/wav", synthetic=True) if synthetic.exists() else None


def available(audio_dir: Path, prompts: list[Prompt]) -> dict[str, bool]:
    """key → synthetic? for every prompt that has audio (uploaded first)."""
    result: dict[str, bool] = {}
    for prompt in prompts:
        found = find(audio_dir, prompt.key)
        if found is not None:
            result[prompt.key] = found.synthetic
    return result


def save_upload(audio_dir: Path, *, key: str, filename: str, data: bytes) -> Path:
    """Store a province recording for a prompt; it replaces the synthetic voice from then on."""
    if not KEY_PATTERN.fullmatch(key):
        raise AudioError(N_("Mã câu hỏi không hợp lệ."))
    suffix = Path(filename).suffix.lower()
    if suffix not in UPLOAD_TYPES:
        raise AudioError(N_("Chỉ nhận tệp âm thanh .wav, .mp3, .ogg hoặc .m4a."))
    if not data or len(data) > MAX_UPLOAD_BYTES:
        raise AudioError(N_("Tệp âm thanh phải nhỏ hơn 2 MB."))
    folder = audio_dir / "uploaded"
    folder.mkdir(parents=True, exist_ok=True)
    for other in UPLOAD_TYPES:
        (folder / f"{key}{other}").unlink(missing_ok=True)
    path = folder / f"{key}{suffix}"
    path.write_bytes(data)
    return path
