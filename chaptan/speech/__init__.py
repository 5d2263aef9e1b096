"""The speech layer: speech to text (`transcribe`, faster-whisper behind the `SpeechToText`
protocol), text to speech (`tts`, the voices behind `stream_tts`), and the Whisper model that ships
with the package (`bundled_model`)."""
