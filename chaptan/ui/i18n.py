"""The interface's words in English, Japanese and Traditional Chinese (Gradio's gr.I18n).

The browser's language picks the translation. Keys are the English text itself, so the UI code
reads naturally and a missing translation falls back to English.

gr.I18n only reaches component labels, choices and fixed text, so messages made at run time (progress,
job states, notices, errors), table column names and the login page's message go through `translate`
with the request's Accept-Language instead. The core stays English: the CLI and API scripts read its
messages as they are.
"""

from __future__ import annotations

import re

import gradio as gr

HEADER = "# Chaptan · チャプたん\nChapters for your videos, made on your own machine."
UPLOAD_INTRO = ("Upload a video or audio file; Chaptan transcribes it and writes YouTube chapters. "
                "You can close this page: the job keeps running and shows up under **My videos**.")
VOICE_NOTE = ("Without an LLM configured, Chaptan answers from the selected video's transcript; "
              "open conversation needs `OPENAI_BASE_URL` or `OPENAI_API_KEY`.")
EMPTY_LIBRARY = "No videos yet. Upload one in the **Upload & chapter** tab."
NO_VIDEO = "Choose one of your finished videos to edit its chapters."
LOGIN_MESSAGE = ("<b>Chaptan</b> · チャプたん: sign in to chapter your videos. "
                 "After 5 failed attempts, signing in is paused for a while, longer each time.")
# The one draft rule, said wherever the editor shows problems: a draft saves whatever YouTube rules
# it breaks, and only a start that is not a time keeps it from saving.
DRAFT_NOTE = ("⚠️ **Draft**: YouTube would refuse these chapters yet. A draft is saved as it is, "
              "whatever rules it breaks.")
UNREADABLE_NOTE = ("A draft may break any YouTube rule and still be saved, but every start must be a "
                   "time first.")
ASK_PLACEHOLDER = "Ask about one of your videos, e.g. “When do I talk about the budget?” — or just say hello."

JA = {
    "Move the seat here": "席をここに移す",
    "Take a seat": "席に着く",
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
    "Find words": "語句を検索",
    "e.g. planets": "例：惑星",
    "Chapters": "チャプター",
    "Add at player time": "再生位置に追加",
    "Delete row": "行を削除",
    "Merge with next": "次と結合",
    "New title for row": "この行のタイトルを作り直す",
    "New titles for all": "すべてのタイトルを作り直す",
    "Save as a new version": "新しい版として保存",
    "Export": "書き出し",
    "Download the saved version": "保存済みの版をダウンロード",
    "Exported file": "書き出したファイル",
    "Chapters: YouTube description (.txt)": "チャプター：YouTube 概要欄用（.txt）",
    "Chapters: JSON": "チャプター：JSON",
    "Chapters: WebVTT": "チャプター：WebVTT",
    "Chapters: FFmetadata": "チャプター：FFmetadata",
    "Transcript: SRT": "文字起こし：SRT",
    "Transcript: WebVTT": "文字起こし：WebVTT",
    "Transcript: plain text": "文字起こし：テキスト",
    "Transcript: JSON": "文字起こし：JSON",
    "Video with embedded chapters": "チャプター入りの動画",
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
    "Make administrator": "管理者にする",
    "Revoke administrator": "管理者から外す",
    "Remove": "削除",
    EMPTY_LIBRARY: ("まだ動画がありません。**アップロードとチャプター作成** タブから"
                    "アップロードしてください。"),
    NO_VIDEO: "チャプターを編集するには、処理の終わった動画を選んでください。",
    LOGIN_MESSAGE: ("<b>Chaptan</b> · チャプたん：ログインして、動画にチャプターを付けましょう。"
                    "5 回続けて失敗すると、しばらくログインできなくなります（失敗するたびに長くなります）。"),
    "Automatic (LLM when configured)": "自動（LLM が設定されていれば LLM）",
    "Local, offline": "ローカル（オフライン）",
    "No video": "動画なし",
    # Table column names (sent with each table's rows: gr.I18n does not reach Dataframe headers).
    "Title": "タイトル",
    "Duration": "長さ",
    "Status": "状態",
    "Created": "作成日時",
    "Owner": "所有者",
    "Version": "版",
    "Saved": "保存日時",
    "By": "保存した人",
    "User": "ユーザー",
    "Disabled": "無効",
    "E-mail": "メール",
    "Videos": "動画数",
    "Disk (MB)": "ディスク (MB)",
    "yes": "はい",
}

ZH_TW = {
    "Move the seat here": "把座位移到這裡",
    "Take a seat": "入座",
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
    "Find words": "尋找字詞",
    "e.g. planets": "例如：行星",
    "Chapters": "章節",
    "Add at player time": "在播放位置新增",
    "Delete row": "刪除此列",
    "Merge with next": "與下一章合併",
    "New title for row": "重新產生此列標題",
    "New titles for all": "重新產生所有標題",
    "Save as a new version": "儲存為新版本",
    "Export": "匯出",
    "Download the saved version": "下載已儲存的版本",
    "Exported file": "匯出的檔案",
    "Chapters: YouTube description (.txt)": "章節：YouTube 說明欄（.txt）",
    "Chapters: JSON": "章節：JSON",
    "Chapters: WebVTT": "章節：WebVTT",
    "Chapters: FFmetadata": "章節：FFmetadata",
    "Transcript: SRT": "逐字稿：SRT",
    "Transcript: WebVTT": "逐字稿：WebVTT",
    "Transcript: plain text": "逐字稿：純文字",
    "Transcript: JSON": "逐字稿：JSON",
    "Video with embedded chapters": "內嵌章節的影片",
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
    "Make administrator": "設為管理員",
    "Revoke administrator": "取消管理員",
    "Remove": "移除",
    EMPTY_LIBRARY: "還沒有影片。請到 **上傳並產生章節** 分頁上傳一部。",
    NO_VIDEO: "請選擇一部已處理完成的影片來編輯章節。",
    LOGIN_MESSAGE: ("<b>Chaptan</b> · チャプたん：登入後即可為你的影片產生章節。"
                    "連續失敗 5 次後會暫停登入一段時間，每次失敗都會再延長。"),
    "Automatic (LLM when configured)": "自動（已設定 LLM 時使用 LLM）",
    "Local, offline": "本機（離線）",
    "No video": "不指定影片",
    # Table column names (sent with each table's rows: gr.I18n does not reach Dataframe headers).
    "Title": "標題",
    "Duration": "長度",
    "Status": "狀態",
    "Created": "建立時間",
    "Owner": "擁有者",
    "Version": "版本",
    "Saved": "儲存時間",
    "By": "儲存者",
    "User": "使用者",
    "Disabled": "已停用",
    "E-mail": "電子郵件",
    "Videos": "影片數",
    "Disk (MB)": "磁碟 (MB)",
    "yes": "是",
}

# Messages made at run time. A key with {name} fields is a template: the message must match it
# whole, and the values (times, row numbers, file names) are carried into the translation. Exact keys
# win; templates are tried in order, so a specific one goes before a general one it would also fit.
RUNTIME_JA = {
    "You have a seat in the voice chat.": "音声チャットの席に着いています。",
    "All seats are taken ({seats}): you are number {position} in line. This updates by itself.":
        "{seats} 席すべてが埋まっています。あなたは {position} 番目です（自動で更新されます）。",
    "Your seat is in use in another tab or browser.": "あなたの席は別のタブかブラウザで使われています。",
    "You have no seat in the voice chat (it is freed after a while without questions).":
        "音声チャットの席がありません（しばらく質問がないと席は空けられます）。",
    "Your voice-chat seat is in use in another tab or browser; move it here first.":
        "音声チャットの席は別のタブかブラウザで使われています。先にこちらへ移してください。",
    "Waiting for a voice-chat seat: you are number {position}.":
        "音声チャットの席を待っています。あなたは {position} 番目です。",
    "You have no voice-chat seat (freed after a while without questions): take a seat first.":
        "音声チャットの席がありません（質問がない間に空けられました）。先に「席に着く」を押してください。",
    "All {seats} voice-chat seats are taken and {waiting} waiting; try again later.":
        "音声チャットの {seats} 席はすべて埋まり、{waiting} 人が待っています。後でお試しください。",
    "Signed in as **{user}**": "**{user}** でログイン中",
    "Files up to {size} each.": "1 ファイルにつき {size} まで。",
    "Too many failed sign-ins from your address: try again in {seconds} seconds.":
        "この接続元からのログイン失敗が多すぎます。{seconds} 秒後にもう一度お試しください。",
    "Too many failed sign-ins for {name}: try again in {seconds} seconds.":
        "{name} のログイン失敗が多すぎます。{seconds} 秒後にもう一度お試しください。",
    "Memory: {count} message, {used} of {limit} tokens (Chaptan's persona included).":
        "記憶：メッセージ {count} 件、{limit} トークン中 {used}（Chaptan の人物設定を含む）。",
    "Memory: {count} messages, {used} of {limit} tokens (Chaptan's persona included).":
        "記憶：メッセージ {count} 件、{limit} トークン中 {used}（Chaptan の人物設定を含む）。",
    "Created the user **{user}**.": "ユーザー **{user}** を作成しました。",
    "Reset the password of **{user}**.": "**{user}** のパスワードを再設定しました。",
    "Set the e-mail of **{user}**.": "**{user}** のメールを設定しました。",
    "Disabled **{user}**.": "**{user}** を無効にしました。",
    "Enabled **{user}**.": "**{user}** を有効にしました。",
    "Made **{user}** an administrator.": "**{user}** を管理者にしました。",
    "**{user}** is no longer an administrator.": "**{user}** を管理者から外しました。",
    "Removed **{user}** and all their data ({size} MB).":
        "**{user}** とそのすべてのデータ（{size} MB）を削除しました。",
    "waiting for a free worker": "空きを待っています",
    "waiting for a worker": "処理するワーカーを待っています",
    "Making a copy your browser can play: {percent}%.": "ブラウザで再生できるコピーを作成中：{percent}%。",
    "starting": "開始しています",
    "probing": "ファイルを確認中",
    "transcribing": "文字起こし中",
    "chaptering": "チャプター作成中",
    "saving": "保存中",
    "done": "完了",
    "queued": "待機中",
    "running": "処理中",
    "failed": "失敗",
    "about {time} left": "残り約 {time}",
    "<b>{title}</b>: failed. {error}": "<b>{title}</b>：失敗しました。{error}",
    "<b>{title}</b> ({length}): done.": "<b>{title}</b>（{length}）：完了しました。",
    "Deleted <b>{title}</b>.": "<b>{title}</b> を削除しました。",
    "Please log in again.": "もう一度ログインしてください。",
    "Choose a video or audio file first.": "先に動画または音声ファイルを選んでください。",
    "Open a finished video first.": "先に処理の終わった動画を開いてください。",
    "Type a question or record one first.": "先に質問を入力するか、録音してください。",
    "Only administrators can do this.": "この操作は管理者だけができます。",
    "Something went wrong on the server; the page is as it was. The server log has the details.":
        "サーバーで問題が起きました。ページはそのままです。詳しくはサーバーのログをご覧ください。",
    "Type the number of the version to restore, or click it in the history.":
        "戻す版の番号を入力するか、履歴でその版をクリックしてください。",
    "You cannot do that to your own account.": "自分のアカウントにはこの操作はできません。",
    "New titles: local titles.": "新しいタイトルを作りました（ローカル）。",
    "New titles: LLM titles.": "新しいタイトルを作りました（LLM）。",
    "New titles: the LLM failed ({reason}); used local titles.":
        "LLM が失敗したため（{reason}）、ローカルで新しいタイトルを作りました。",
    "no LLM is configured (set OPENAI_API_KEY or OPENAI_BASE_URL); used the local generator":
        "LLM が設定されていないため（OPENAI_API_KEY か OPENAI_BASE_URL を設定）、ローカルで作りました",
    "the LLM failed ({reason}); used the local generator":
        "LLM が失敗したため（{reason}）、ローカルで作りました",
    "New titles: {note}.": "新しいタイトル：{note}。",
    "Saved as version {number}.": "版 {number} として保存しました。",
    "No matches for “{words}”.": "「{words}」は見つかりませんでした。",
    "Version {number} restored as version {saved}.": "版 {number} を版 {saved} として復元しました。",
    "✅ YouTube-ready: paste it into your description or save it.":
        "✅ YouTube にそのまま使えます。概要欄に貼り付けるか、保存してください。",
    DRAFT_NOTE: ("⚠️ **下書き**：このままでは YouTube に受け付けられません。"
                 "下書きは、どのルールに合わなくてもこのまま保存できます。"),
    UNREADABLE_NOTE: ("下書きは YouTube のルールに合わなくても保存できますが、"
                      "開始時間はすべて時間として読める必要があります。"),
    "{file} is not an audio or video file (no audio or video stream found)":
        "{file} は動画・音声ファイルではありません（映像も音声も見つかりません）",
    "{file} is not a readable audio or video file ({reason}); it may be damaged or truncated":
        ("{file} は動画・音声ファイルとして読めません（{reason}）。"
         "壊れているか、途中で切れている可能性があります"),
    "{file} has no audio stream, so there is nothing to transcribe":
        "{file} には音声がないため、文字起こしできません",
    "{file} is empty (0 bytes)": "{file} は空です（0 バイト）",
    "{file} contains no decodable audio": "{file} には再生できる音声が含まれていません",
    "{file} is truncated: its audio stops at {end} s of {duration} s":
        "{file} は途中で切れています：音声が {duration} 秒中 {end} 秒で終わっています",
    "no speech was found in this video's audio, so there is nothing to chapter":
        "この動画の音声から話し声が見つからなかったため、チャプターを作れません",
    "YouTube needs at least 3 chapters: max chapters must be 0 (no limit) or 3+":
        "YouTube のチャプターは 3 つ以上必要です。上限は 0（無制限）か 3 以上にしてください",
    "only a failed video can be retried": "再試行できるのは失敗した動画だけです",
    "whisper {model} only knows English and cannot transcribe {language}; choose English or automatic "
    "detection, or a multilingual model":
        ("whisper {model} は英語専用のため、{language} を文字起こしできません。話されている言語を英語か"
         "自動にするか、多言語モデルを使ってください"),
    ("{start}-{end} is spoken in {language}, which whisper {model} cannot transcribe, so it was left "
     "out of the transcript"):
        ("{start}〜{end} は {language} で話されていて whisper {model} では文字起こしできないため、"
         "文字起こしから外しました"),
    "unknown language code {language}; use auto or a code such as en, de, fr":
        "{language} という言語コードはありません。auto か、en・ja などのコードを使ってください",
    "the file {name} of this video is missing": "この動画のファイル {name} が見つかりません",
    "ask me something: type a question or record one": "質問を入力するか、録音してください",
    "I heard no speech in that recording; please try again":
        "録音から声が聞き取れませんでした。もう一度お試しください",
    ("user name {name} is not allowed: use 1 to {limit} letters, digits, '-' or '_', starting with a "
     "letter or digit"):
        "ユーザー名 {name} は使えません。英数字と「-」「_」で 1〜{limit} 文字、先頭は英数字にしてください",
    ("{file} ({size} MB) does not fit in your storage quota: {used} of {quota} MB used; delete videos in My "
     "videos to make room"):
        ("{file}（{size} MB）は保存容量の上限に収まりません。{quota} MB 中 {used} MB を使用中です。"
         "「マイ動画」で動画を削除して空きを作ってください"),
    "the password is too short: use at least {count} characters":
        "パスワードが短すぎます。{count} 文字以上にしてください",
    "user {name} already exists": "ユーザー {name} はすでに存在します",
    "{name} is the only enabled admin: make another user admin first":
        "{name} は有効な唯一の管理者です。先に別のユーザーを管理者にしてください",
    "this video is being processed; delete it when it has finished":
        "この動画は処理中です。終わってから削除してください",
    "this video has no chapters yet": "この動画にはまだチャプターがありません",
    "this video has not finished processing yet": "この動画はまだ処理が終わっていません",
    "there are no chapters to save": "保存するチャプターがありません",
    ("the saved chapters are a draft that YouTube would refuse ({problems}): "
     "fix them in the Chapter editor first"):
        ("保存されたチャプターは YouTube に受け付けられない下書きです（{problems}）。"
         "先にチャプター編集で直してください"),
    "select a chapter row first": "先にチャプターの行を選んでください",
    "this video has no chapter version {version}": "この動画に版 {version} はありません",
    "stopped by a crash {count} times": "異常終了で {count} 回止まりました",
    "there are no chapters": "チャプターがありません",
    "the first chapter must start at 0:00": "最初のチャプターは 0:00 から始める必要があります",
    "YouTube needs at least {least} chapters, this list has {count}":
        "YouTube のチャプターは {least} つ以上必要ですが、{count} つしかありません",
    "row {row} starts before row {above} above it: the chapters are out of order":
        "{row} 行目が上の {above} 行目より前に始まっています。チャプターの順番が時間順ではありません",
    "row {row} starts at the same time as row {other}": "{row} 行目の開始が {other} 行目と同じです",
    "row {row}: {text} is not a time; write m:ss or h:mm:ss":
        "{row} 行目：{text} は時間ではありません。m:ss か h:mm:ss で書いてください",
    "unknown language {language}": "{language} という言語はありません",
    "row {row} lasts {length} s; chapters need at least {least} s":
        "{row} 行目は {length} 秒です。チャプターは {least} 秒以上必要です",
    "row {row} starts after the end of the video": "{row} 行目が動画の終わりより後に始まっています",
    "row {row} has no title": "{row} 行目にタイトルがありません",
    "row {row} title has {count} characters; the limit is {limit}":
        "{row} 行目のタイトルは {count} 文字です。上限は {limit} 文字です",
    "row {row} has the same title as row {other}": "{row} 行目のタイトルが {other} 行目と同じです",
}

RUNTIME_ZH_TW = {
    "You have a seat in the voice chat.": "你已在語音聊天中入座。",
    "All seats are taken ({seats}): you are number {position} in line. This updates by itself.":
        "{seats} 個座位都已坐滿：你排在第 {position} 位（會自動更新）。",
    "Your seat is in use in another tab or browser.": "你的座位正在另一個分頁或瀏覽器中使用。",
    "You have no seat in the voice chat (it is freed after a while without questions).":
        "你在語音聊天中沒有座位（一段時間沒有提問，座位就會讓出）。",
    "Your voice-chat seat is in use in another tab or browser; move it here first.":
        "你的語音聊天座位正在另一個分頁或瀏覽器中使用，請先把它移到這裡。",
    "Waiting for a voice-chat seat: you are number {position}.":
        "正在等待語音聊天座位：你排在第 {position} 位。",
    "You have no voice-chat seat (freed after a while without questions): take a seat first.":
        "你沒有語音聊天座位（一段時間沒有提問，座位已讓出），請先按「入座」。",
    "All {seats} voice-chat seats are taken and {waiting} waiting; try again later.":
        "語音聊天的 {seats} 個座位都已坐滿，另有 {waiting} 人在等待，請稍後再試。",
    "Signed in as **{user}**": "已登入：**{user}**",
    "Files up to {size} each.": "每個檔案最大 {size}。",
    "Too many failed sign-ins from your address: try again in {seconds} seconds.":
        "你的位址登入失敗次數過多，請在 {seconds} 秒後再試。",
    "Too many failed sign-ins for {name}: try again in {seconds} seconds.":
        "{name} 登入失敗次數過多，請在 {seconds} 秒後再試。",
    "Memory: {count} message, {used} of {limit} tokens (Chaptan's persona included).":
        "記憶：{count} 則訊息，已用 {used} / {limit} 個 token（含 Chaptan 的角色設定）。",
    "Memory: {count} messages, {used} of {limit} tokens (Chaptan's persona included).":
        "記憶：{count} 則訊息，已用 {used} / {limit} 個 token（含 Chaptan 的角色設定）。",
    "Created the user **{user}**.": "已建立使用者 **{user}**。",
    "Reset the password of **{user}**.": "已重設 **{user}** 的密碼。",
    "Set the e-mail of **{user}**.": "已設定 **{user}** 的電子郵件。",
    "Disabled **{user}**.": "已停用 **{user}**。",
    "Enabled **{user}**.": "已啟用 **{user}**。",
    "Made **{user}** an administrator.": "已將 **{user}** 設為管理員。",
    "**{user}** is no longer an administrator.": "**{user}** 已不再是管理員。",
    "Removed **{user}** and all their data ({size} MB).": "已移除 **{user}** 及其所有資料（{size} MB）。",
    "waiting for a free worker": "等待空閒的處理程序",
    "waiting for a worker": "等待處理節點",
    "Making a copy your browser can play: {percent}%.": "正在製作瀏覽器可播放的副本：{percent}%。",
    "starting": "準備開始",
    "probing": "檢查檔案中",
    "transcribing": "轉錄文字中",
    "chaptering": "製作章節中",
    "saving": "儲存中",
    "done": "完成",
    "queued": "排隊中",
    "running": "處理中",
    "failed": "失敗",
    "about {time} left": "約剩 {time}",
    "<b>{title}</b>: failed. {error}": "<b>{title}</b>：處理失敗。{error}",
    "<b>{title}</b> ({length}): done.": "<b>{title}</b>（{length}）：已完成。",
    "Deleted <b>{title}</b>.": "已刪除 <b>{title}</b>。",
    "Please log in again.": "請重新登入。",
    "Choose a video or audio file first.": "請先選擇影片或音訊檔。",
    "Open a finished video first.": "請先開啟已處理完成的影片。",
    "Type a question or record one first.": "請先輸入或錄下你的問題。",
    "Only administrators can do this.": "只有管理員可以執行這項操作。",
    "Something went wrong on the server; the page is as it was. The server log has the details.":
        "伺服器發生問題，頁面維持原狀。詳細資訊請見伺服器記錄。",
    "Type the number of the version to restore, or click it in the history.":
        "請輸入要還原的版本號碼，或在版本紀錄中點選該版本。",
    "You cannot do that to your own account.": "無法對自己的帳號執行這項操作。",
    "New titles: local titles.": "已產生新標題（本機）。",
    "New titles: LLM titles.": "已產生新標題（LLM）。",
    "New titles: the LLM failed ({reason}); used local titles.":
        "LLM 失敗（{reason}），已改用本機產生新標題。",
    "no LLM is configured (set OPENAI_API_KEY or OPENAI_BASE_URL); used the local generator":
        "尚未設定 LLM（請設定 OPENAI_API_KEY 或 OPENAI_BASE_URL），已改用本機產生",
    "the LLM failed ({reason}); used the local generator": "LLM 失敗（{reason}），已改用本機產生",
    "New titles: {note}.": "新標題：{note}。",
    "Saved as version {number}.": "已儲存為第 {number} 版。",
    "No matches for “{words}”.": "找不到「{words}」。",
    "Version {number} restored as version {saved}.": "已將第 {number} 版還原為第 {saved} 版。",
    "✅ YouTube-ready: paste it into your description or save it.":
        "✅ 可直接用於 YouTube：貼到影片說明欄，或先儲存。",
    DRAFT_NOTE:
        "⚠️ **草稿**：YouTube 目前還不會接受這些章節。草稿不論違反哪些規則，都能照原樣儲存。",
    UNREADABLE_NOTE: "草稿即使不符合 YouTube 的規則也能儲存，但每個開始時間都必須是可讀的時間。",
    "{file} is not an audio or video file (no audio or video stream found)":
        "{file} 不是影片或音訊檔（找不到影像或聲音）",
    "{file} is not a readable audio or video file ({reason}); it may be damaged or truncated":
        "無法讀取 {file} 這個影片或音訊檔（{reason}），檔案可能已損壞或不完整",
    "{file} has no audio stream, so there is nothing to transcribe": "{file} 沒有聲音，無法轉錄文字",
    "{file} is empty (0 bytes)": "{file} 是空檔案（0 位元組）",
    "{file} contains no decodable audio": "{file} 沒有可解碼的聲音",
    "{file} is truncated: its audio stops at {end} s of {duration} s":
        "{file} 不完整：聲音在 {duration} 秒中的第 {end} 秒就中斷了",
    "no speech was found in this video's audio, so there is nothing to chapter":
        "這部影片的聲音中找不到說話內容，無法製作章節",
    "YouTube needs at least 3 chapters: max chapters must be 0 (no limit) or 3+":
        "YouTube 章節至少需要 3 個：章節上限請設為 0（不限）或 3 以上",
    "only a failed video can be retried": "只有處理失敗的影片可以重試",
    "whisper {model} only knows English and cannot transcribe {language}; choose English or automatic "
    "detection, or a multilingual model":
        "whisper {model} 只懂英文，無法轉錄 {language}；請把說話語言設為英文或自動偵測，或改用多語言模型",
    ("{start}-{end} is spoken in {language}, which whisper {model} cannot transcribe, so it was left "
     "out of the transcript"):
        "{start}–{end} 說的是 {language}，whisper {model} 無法轉錄，因此這段沒有放進逐字稿",
    "unknown language code {language}; use auto or a code such as en, de, fr":
        "沒有 {language} 這個語言代碼；請使用 auto，或 en、zh 等代碼",
    "the file {name} of this video is missing": "找不到這部影片的檔案 {name}",
    "ask me something: type a question or record one": "請輸入或錄下你的問題",
    "I heard no speech in that recording; please try again": "錄音中聽不到說話聲，請再試一次",
    ("user name {name} is not allowed: use 1 to {limit} letters, digits, '-' or '_', starting with a "
     "letter or digit"):
        "不能使用使用者名稱 {name}：請使用 1 到 {limit} 個英文字母、數字、「-」或「_」，並以字母或數字開頭",
    ("{file} ({size} MB) does not fit in your storage quota: {used} of {quota} MB used; delete videos in My "
     "videos to make room"):
        ("{file}（{size} MB）超出你的儲存空間配額：已使用 {quota} MB 中的 {used} MB；"
         "請在「我的影片」刪除影片以騰出空間"),
    "the password is too short: use at least {count} characters": "密碼太短：請至少使用 {count} 個字元",
    "user {name} already exists": "使用者 {name} 已經存在",
    "{name} is the only enabled admin: make another user admin first":
        "{name} 是唯一啟用中的管理員：請先將其他使用者設為管理員",
    "this video is being processed; delete it when it has finished":
        "這部影片正在處理中，請等處理完成後再刪除",
    "this video has no chapters yet": "這部影片還沒有章節",
    "this video has not finished processing yet": "這部影片還沒處理完成",
    "there are no chapters to save": "沒有可儲存的章節",
    ("the saved chapters are a draft that YouTube would refuse ({problems}): "
     "fix them in the Chapter editor first"):
        "已儲存的章節是 YouTube 不會接受的草稿（{problems}）：請先在章節編輯器中修正",
    "select a chapter row first": "請先選擇一列章節",
    "this video has no chapter version {version}": "這部影片沒有第 {version} 版章節",
    "stopped by a crash {count} times": "因異常中止了 {count} 次",
    "there are no chapters": "沒有章節",
    "the first chapter must start at 0:00": "第一個章節必須從 0:00 開始",
    "YouTube needs at least {least} chapters, this list has {count}":
        "YouTube 章節至少需要 {least} 個，目前只有 {count} 個",
    "row {row} starts before row {above} above it: the chapters are out of order":
        "第 {row} 列的開始時間早於上方的第 {above} 列：章節沒有依時間排序",
    "row {row} starts at the same time as row {other}": "第 {row} 列的開始時間與第 {other} 列相同",
    "row {row}: {text} is not a time; write m:ss or h:mm:ss":
        "第 {row} 列：{text} 不是時間，請寫成 m:ss 或 h:mm:ss",
    "unknown language {language}": "沒有 {language} 這種語言",
    "row {row} lasts {length} s; chapters need at least {least} s":
        "第 {row} 列只有 {length} 秒；每個章節至少需要 {least} 秒",
    "row {row} starts after the end of the video": "第 {row} 列的開始時間晚於影片結尾",
    "row {row} has no title": "第 {row} 列沒有標題",
    "row {row} title has {count} characters; the limit is {limit}":
        "第 {row} 列的標題有 {count} 個字元，上限是 {limit} 個",
    "row {row} has the same title as row {other}": "第 {row} 列的標題與第 {other} 列相同",
}

RUNTIME = {"ja": RUNTIME_JA, "zh-TW": RUNTIME_ZH_TW}
INTERFACE = {"ja": JA, "zh-TW": ZH_TW}
TEMPLATE_FIELD = re.compile(r"\{(\w+)\}")


def _template_pattern(template: str) -> re.Pattern:
    """The regex that matches messages made from `template`, capturing each {field}."""
    literals = TEMPLATE_FIELD.split(template)
    parts = [re.escape(text) if i % 2 == 0 else f"(?P<{text}>.+?)" for i, text in enumerate(literals)]
    return re.compile("".join(parts), re.DOTALL)


RUNTIME_TEMPLATES = {
    language: [(_template_pattern(english), translated) for english, translated in catalog.items()
               if TEMPLATE_FIELD.search(english)]
    for language, catalog in RUNTIME.items()
}


def language_of(request: gr.Request | None) -> str:
    """The caller's language for runtime messages: "ja", "zh-TW" or "en"."""
    headers = getattr(request, "headers", None) if request is not None else None
    return language_of_header((headers.get("accept-language") or "") if headers is not None else "")


def language_of_header(header: str) -> str:
    """The language an Accept-Language header asks for, of those we have.

    Languages are tried by preference (q values); the first one we have wins, English included,
    so "en-US,ja;q=0.8" stays English. Simplified Chinese is not offered Traditional."""
    ranked = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        try:
            weight = float(params.strip().removeprefix("q=")) if params.strip().startswith("q=") else 1.0
        except ValueError:
            weight = 0.0
        if tag and weight > 0:
            ranked.append((-weight, position, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        primary = tag.split("-")[0]
        if primary == "ja":
            return "ja"
        if primary == "zh" and any(part in ("tw", "hant", "hk", "mo") for part in tag.split("-")[1:]):
            return "zh-TW"
        if primary == "en":
            return "en"
    return "en"


def translate(message: str, language: str) -> str:
    """`message` in `language`: an exact entry of the runtime or the interface catalog, else the first
    matching template; English when none knows it."""
    catalog = RUNTIME.get(language)
    if catalog is None:
        return message
    if message in catalog:
        return catalog[message]
    if message in INTERFACE[language]:
        return INTERFACE[language][message]
    for pattern, translated in RUNTIME_TEMPLATES[language]:
        match = pattern.fullmatch(message)
        if match:
            return translated.format(**match.groupdict())
    return message


def localized(message: str, request: gr.Request | None) -> str:
    """`message` in the language of the person behind `request`."""
    return translate(message, language_of(request))


def localized_table(headers: list[str], rows: list[list], language: str) -> dict:
    """A Dataframe value whose column names are in `language`: gr.I18n reaches component labels
    but not Dataframe headers, so every handler that fills a table sends them with its rows."""
    return {"headers": [translate(header, language) for header in headers], "data": rows}


I18N = gr.I18n(en={key: key for key in JA}, ja=JA, **{"zh-TW": ZH_TW})


def t(text: str):
    """The translatable form of `text` (one of the keys above)."""
    if text not in JA:
        raise KeyError(f"no translation for {text!r}")
    return I18N(text)
