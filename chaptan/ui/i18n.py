"""The interface's words in English, Japanese and Traditional Chinese (Gradio's gr.I18n).

The browser's language picks the translation. Keys are the English text itself, so the UI code
reads naturally and a missing translation falls back to English.
"""

from __future__ import annotations

import gradio as gr

HEADER = "# Chaptan · チャプたん\nChapters for your videos, made on your own machine."
UPLOAD_INTRO = ("Upload a video or audio file; Chaptan transcribes it and writes YouTube chapters. "
                "You can close this page: the job keeps running and shows up under **My videos**.")
VOICE_NOTE = ("Without an LLM configured, Chaptan answers from the selected video's transcript; "
              "open conversation needs `OPENAI_BASE_URL` or `OPENAI_API_KEY`.")
ASK_PLACEHOLDER = "Ask about one of your videos, e.g. “When do I talk about the budget?” — or just say hello."

JA = {
    HEADER: "# Chaptan · チャプたん\nあなたの動画にチャプターを。すべて自分のマシンの中で。",
    UPLOAD_INTRO: ("動画または音声ファイルをアップロードすると、Chaptan が文字起こしして YouTube 用の"
                   "チャプターを作ります。このページを閉じても処理は続き、**マイ動画** に表示されます。"),
    VOICE_NOTE: ("LLM が未設定のときは、選んだ動画の文字起こしから答えます。自由な会話には "
                 "`OPENAI_BASE_URL` か `OPENAI_API_KEY` の設定が必要です。"),
    ASK_PLACEHOLDER: ("動画について質問してみてください（例：「予算の話はいつ？」）。"
                      "あいさつだけでも大丈夫です。"),
    "Upload & chapter": "アップロードとチャプター作成",
    "My videos": "マイ動画",
    "Chapter editor": "チャプター編集",
    "Talk to Chaptan": "Chaptan と話す",
    "Admin": "管理",
    "Log out": "ログアウト",
    "Video or audio": "動画または音声",
    "Spoken language": "話されている言語",
    "Chapter writer": "チャプターの作成方法",
    "Maximum chapters (0: no limit)": "チャプター数の上限（0 = 無制限）",
    "Start": "開始",
    "Video": "動画",
    "Chapters: paste into your YouTube description": "チャプター：YouTube の概要欄に貼り付け",
    "Transcript": "文字起こし",
    "Downloads": "ダウンロード",
    "Make a copy of the video with chapter markers": "チャプター付きの動画を作る",
    "Video with chapters": "チャプター付き動画",
    "Show every user's videos (admins)": "全ユーザーの動画を表示（管理者）",
    "Refresh": "更新",
    "Your videos": "あなたの動画",
    "Selected video ID": "選択中の動画 ID",
    "Open": "開く",
    "Retry": "再試行",
    "Delete": "削除",
    "Refresh list": "一覧を更新",
    "Player": "プレーヤー",
    "Search the transcript": "文字起こしを検索",
    "Find words": "語句を検索",
    "e.g. planets": "例：惑星",
    "Start a chapter at the selected match": "選んだ箇所からチャプターを始める",
    "Chapters": "チャプター",
    "Add at player time": "再生位置に追加",
    "Split at player time": "再生位置で分割",
    "Delete row": "行を削除",
    "Merge with next": "次と結合",
    "New title for row": "この行のタイトルを作り直す",
    "New titles for all": "すべてのタイトルを作り直す",
    "Save as a new version": "新しい版として保存",
    "Version history": "版の履歴",
    "Version to restore": "戻す版",
    "Restore it as the newest version": "最新の版として復元",
    "Chaptan": "Chaptan",
    "Type": "入力",
    "Your question": "質問",
    "Send": "送信",
    "Or speak": "または話しかける",
    "Chaptan says": "Chaptan の返事",
    "About this video": "対象の動画",
    "Voice": "声",
    "Clear memory": "記憶を消去",
    "Users": "ユーザー",
    "User name": "ユーザー名",
    "New password (8+ characters)": "新しいパスワード（8 文字以上）",
    "E-mail (optional)": "メール（任意）",
    "Administrator": "管理者",
    "Create user": "ユーザーを作成",
    "Reset password": "パスワードを再設定",
    "Set e-mail": "メールを設定",
    "Disable": "無効にする",
    "Enable": "有効にする",
    "Remove": "削除",
}

ZH_TW = {
    HEADER: "# Chaptan · チャプたん\n為你的影片加上章節，全部在你自己的電腦上完成。",
    UPLOAD_INTRO: ("上傳影片或音訊檔，Chaptan 會轉錄內容並產生 YouTube 章節。關閉此頁面後工作仍會繼續，"
                   "並顯示在 **我的影片** 中。"),
    VOICE_NOTE: ("未設定 LLM 時，Chaptan 會根據所選影片的逐字稿回答；自由對話需要設定 "
                 "`OPENAI_BASE_URL` 或 `OPENAI_API_KEY`。"),
    ASK_PLACEHOLDER: "問問關於你影片的問題（例如：「什麼時候談到預算？」），或只是打個招呼。",
    "Upload & chapter": "上傳並產生章節",
    "My videos": "我的影片",
    "Chapter editor": "章節編輯器",
    "Talk to Chaptan": "與 Chaptan 對話",
    "Admin": "管理",
    "Log out": "登出",
    "Video or audio": "影片或音訊",
    "Spoken language": "說話語言",
    "Chapter writer": "章節產生方式",
    "Maximum chapters (0: no limit)": "章節數上限（0 = 不限）",
    "Start": "開始",
    "Video": "影片",
    "Chapters: paste into your YouTube description": "章節：貼到 YouTube 說明欄",
    "Transcript": "逐字稿",
    "Downloads": "下載",
    "Make a copy of the video with chapter markers": "製作含章節標記的影片",
    "Video with chapters": "含章節的影片",
    "Show every user's videos (admins)": "顯示所有使用者的影片（管理員）",
    "Refresh": "重新整理",
    "Your videos": "你的影片",
    "Selected video ID": "選取的影片 ID",
    "Open": "開啟",
    "Retry": "重試",
    "Delete": "刪除",
    "Refresh list": "重新整理清單",
    "Player": "播放器",
    "Search the transcript": "搜尋逐字稿",
    "Find words": "尋找字詞",
    "e.g. planets": "例如：行星",
    "Start a chapter at the selected match": "從選取的位置開始新章節",
    "Chapters": "章節",
    "Add at player time": "在播放位置新增",
    "Split at player time": "在播放位置分割",
    "Delete row": "刪除此列",
    "Merge with next": "與下一章合併",
    "New title for row": "重新產生此列標題",
    "New titles for all": "重新產生所有標題",
    "Save as a new version": "儲存為新版本",
    "Version history": "版本紀錄",
    "Version to restore": "要還原的版本",
    "Restore it as the newest version": "還原為最新版本",
    "Chaptan": "Chaptan",
    "Type": "輸入",
    "Your question": "你的問題",
    "Send": "送出",
    "Or speak": "或直接說話",
    "Chaptan says": "Chaptan 的回答",
    "About this video": "針對此影片",
    "Voice": "聲音",
    "Clear memory": "清除記憶",
    "Users": "使用者",
    "User name": "使用者名稱",
    "New password (8+ characters)": "新密碼（至少 8 個字元）",
    "E-mail (optional)": "電子郵件（選填）",
    "Administrator": "管理員",
    "Create user": "建立使用者",
    "Reset password": "重設密碼",
    "Set e-mail": "設定電子郵件",
    "Disable": "停用",
    "Enable": "啟用",
    "Remove": "移除",
}

I18N = gr.I18n(en={key: key for key in JA}, ja=JA, **{"zh-TW": ZH_TW})


def t(text: str):
    """The translatable form of `text` (one of the keys above)."""
    if text not in JA:
        raise KeyError(f"no translation for {text!r}")
    return I18N(text)
