<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ja_JP">
    <context>
        <name>AgentWindow</name>
        <message>
            <location filename="../window.py" line="88" />
            <location filename="../window.py" line="89" />
            <source>Screen sharing support</source>
            <translation>画面共有サポート</translation>
        </message>
    </context>
    <context>
        <name>CodePage</name>
        <message>
            <location filename="../code.py" line="180" />
            <source>This number is valid for {minutes} min {seconds:02d} s.</source>
            <translation>この番号の有効期限：あと {minutes}分{seconds:02d}秒</translation>
        </message>
        <message>
            <location filename="../code.py" line="185" />
            <source>Your number: {digits}</source>
            <translation>受付番号：{digits}</translation>
        </message>
        <message>
            <location filename="../code.py" line="187" />
            <source>No number yet</source>
            <translation>受付番号はまだありません</translation>
        </message>
        <message>
            <location filename="../code.py" line="192" />
            <source>Cannot reach the support centre yet. Trying again… (attempt {attempt})
Please check that this computer is connected to the internet.</source>
            <translation>サポートセンターにまだ接続できません。もう一度試しています…（{attempt}回目）
パソコンがインターネットにつながっているか、ご確認ください。</translation>
        </message>
        <message>
            <location filename="../code.py" line="197" />
            <source>Connecting to the support centre…</source>
            <translation>サポートセンターに接続しています…</translation>
        </message>
        <message>
            <location filename="../code.py" line="200" />
            <source>The connection was interrupted. Reconnecting… Your number stays the same.</source>
            <translation>接続が途切れました。つなぎ直しています…　受付番号は変わりません。</translation>
        </message>
        <message>
            <location filename="../code.py" line="203" />
            <source>Waiting for the operator to enter the number…</source>
            <translation>オペレーターが番号を入力するのをお待ちください…</translation>
        </message>
        <message>
            <location filename="../code.py" line="206" />
            <location filename="../code.py" line="207" />
            <source>Your number</source>
            <translation>受付番号</translation>
        </message>
        <message>
            <location filename="../code.py" line="208" />
            <source>Please read this number to the operator.</source>
            <translation>オペレーターにこの番号をお伝えください。</translation>
        </message>
        <message>
            <location filename="../code.py" line="209" />
            <source>The number has changed. Please read the new number to the operator.</source>
            <translation>受付番号が変わりました。新しい番号をオペレーターにお伝えください。</translation>
        </message>
        <message>
            <location filename="../code.py" line="210" />
            <source>Cancel</source>
            <translation>キャンセル</translation>
        </message>
        <message>
            <location filename="../code.py" line="211" />
            <source>Cancel and close</source>
            <translation>キャンセルして終了する</translation>
        </message>
        <message>
            <location filename="../code.py" line="212" />
            <location filename="../code.py" line="213" />
            <source>Get a new number</source>
            <translation>新しい番号を発行する</translation>
        </message>
    </context>
    <context>
        <name>ConsentPage</name>
        <message>
            <location filename="../consent.py" line="86" />
            <source>Loading the terms of use…</source>
            <translation>利用規約を読み込んでいます…</translation>
        </message>
        <message>
            <location filename="../consent.py" line="90" />
            <source>The terms of use could not be loaded from the support centre. Please check that this computer is connected to the internet, then press Try again.</source>
            <translation>サポートセンターから利用規約を読み込めませんでした。パソコンがインターネットにつながっているかご確認のうえ、「もう一度試す」を押してください。</translation>
        </message>
        <message>
            <location filename="../consent.py" line="96" />
            <location filename="../consent.py" line="104" />
            <source>Terms of use</source>
            <translation>利用規約</translation>
        </message>
        <message>
            <location filename="../consent.py" line="97" />
            <source>Before we start</source>
            <translation>はじめる前に</translation>
        </message>
        <message>
            <location filename="../consent.py" line="100" />
            <source>Please read the terms of use. Your screen is shown to the operator only after you press “Agree” and then allow the operator who asks.</source>
            <translation>利用規約をお読みください。お客さまの画面は、「同意する」を押し、さらにオペレーターからの依頼を許可したあとで、はじめてオペレーターに表示されます。</translation>
        </message>
        <message>
            <location filename="../consent.py" line="107" />
            <source>Before sharing, please close personal documents, e-mail and anything else you do not want the operator to see.</source>
            <translation>共有を始める前に、個人的な文書やメールなど、見られたくない画面は閉じておいてください。</translation>
        </message>
        <message>
            <location filename="../consent.py" line="112" />
            <source>Try again</source>
            <translation>もう一度試す</translation>
        </message>
        <message>
            <location filename="../consent.py" line="113" />
            <source>Load the terms of use again</source>
            <translation>利用規約をもう一度読み込む</translation>
        </message>
        <message>
            <location filename="../consent.py" line="114" />
            <source>Cancel</source>
            <translation>キャンセル</translation>
        </message>
        <message>
            <location filename="../consent.py" line="115" />
            <source>Cancel and close</source>
            <translation>キャンセルして終了する</translation>
        </message>
        <message>
            <location filename="../consent.py" line="116" />
            <source>Agree</source>
            <translation>同意する</translation>
        </message>
        <message>
            <location filename="../consent.py" line="117" />
            <source>Agree to the terms of use</source>
            <translation>利用規約に同意する</translation>
        </message>
    </context>
    <context>
        <name>KeyGuideOverlay</name>
        <message>
            <location filename="../key_guide.py" line="96" />
            <source>Space</source>
            <translation>スペース</translation>
        </message>
        <message>
            <location filename="../key_guide.py" line="131" />
            <source>× Close</source>
            <translation>× 閉じる</translation>
        </message>
        <message>
            <source>Close the keyboard guide</source>
            <translation>キーボード表示を閉じる</translation>
        </message>
    </context>
    <context>
        <name>NoticePage</name>
        <message>
            <location filename="../notice.py" line="72" />
            <source>Sorry, all our lines are busy right now. Please try again in about a minute.</source>
            <translation>申し訳ございません。ただいま回線が混み合っております。1分ほどたってから、もう一度お試しください。</translation>
        </message>
        <message>
            <location filename="../notice.py" line="74" />
            <source>Sorry, all our lines are busy right now. Please try again in about {minutes} minutes.</source>
            <translation>申し訳ございません。ただいま回線が混み合っております。{minutes}分ほどたってから、もう一度お試しください。</translation>
        </message>
        <message>
            <location filename="../notice.py" line="80" />
            <source>All lines are busy</source>
            <translation>ただいま混み合っています</translation>
        </message>
        <message>
            <location filename="../notice.py" line="82" />
            <location filename="../notice.py" line="89" />
            <location filename="../notice.py" line="99" />
            <location filename="../notice.py" line="109" />
            <source>Your screen has not been shared.</source>
            <translation>お客さまの画面は共有されていません。</translation>
        </message>
        <message>
            <location filename="../notice.py" line="83" />
            <location filename="../notice.py" line="90" />
            <location filename="../notice.py" line="110" />
            <source>Try again</source>
            <translation>もう一度試す</translation>
        </message>
        <message>
            <location filename="../notice.py" line="85" />
            <source>Cannot connect to the support centre</source>
            <translation>サポートセンターに接続できません</translation>
        </message>
        <message>
            <location filename="../notice.py" line="87" />
            <source>Please check that this computer is connected to the internet, then try again.</source>
            <translation>パソコンがインターネットにつながっているかご確認のうえ、もう一度お試しください。</translation>
        </message>
        <message>
            <location filename="../notice.py" line="92" />
            <source>This number has expired</source>
            <translation>受付番号の有効期限が切れました</translation>
        </message>
        <message>
            <location filename="../notice.py" line="95" />
            <source>A number is valid for a short time only. Please get a new number and read it to the operator.</source>
            <translation>受付番号は短い時間しか使えません。新しい番号を発行して、オペレーターにお伝えください。</translation>
        </message>
        <message>
            <location filename="../notice.py" line="100" />
            <source>Get a new number</source>
            <translation>新しい番号を発行する</translation>
        </message>
        <message>
            <location filename="../notice.py" line="102" />
            <source>Sharing could not be started</source>
            <translation>共有を始められませんでした</translation>
        </message>
        <message>
            <location filename="../notice.py" line="105" />
            <source>Something went wrong on the way to the support centre. Please try again, or tell the operator.</source>
            <translation>サポートセンターとの通信で問題が起きました。もう一度お試しいただくか、オペレーターにお伝えください。</translation>
        </message>
        <message>
            <location filename="../notice.py" line="114" />
            <source>Close</source>
            <translation>閉じる</translation>
        </message>
        <message>
            <location filename="../notice.py" line="115" />
            <source>Close the program</source>
            <translation>プログラムを終了する</translation>
        </message>
    </context>
    <context>
        <name>QuitQuestion</name>
        <message>
            <location filename="../confirm_quit.py" line="0" />
            <source>Close the program?</source>
            <translation>プログラムを終了しますか？</translation>
        </message>
        <message>
            <location filename="../confirm_quit.py" line="0" />
            <source>Close the screen sharing program?</source>
            <translation>画面共有プログラムを終了しますか？</translation>
        </message>
        <message>
            <location filename="../confirm_quit.py" line="0" />
            <source>The program removes itself from this computer when it closes. To share your screen again later, you would have to download it again.</source>
            <translation>終了すると、このプログラムはパソコンから削除されます。あとでもう一度画面を共有するには、もう一度ダウンロードが必要です。</translation>
        </message>
        <message>
            <location filename="../confirm_quit.py" line="0" />
            <source>Go back</source>
            <translation>戻る</translation>
        </message>
        <message>
            <location filename="../confirm_quit.py" line="0" />
            <source>Go back and keep the program open</source>
            <translation>戻って、プログラムを開いたままにする</translation>
        </message>
        <message>
            <location filename="../confirm_quit.py" line="0" />
            <source>Close the program</source>
            <translation>終了する</translation>
        </message>
    </context>
    <context>
        <name>RequestPage</name>
        <message>
            <location filename="../request.py" line="108" />
            <source>Starting screen sharing…</source>
            <translation>画面の共有を始めています…</translation>
        </message>
        <message>
            <source>The service's connection server could not be used (a setting on the service's side, not on your computer), so your screen may not reach the operator. Please tell the operator on the phone.</source>
            <translation>サポートセンター側の接続用サーバーを使えませんでした（お客さまのパソコンではなく、サービス側の設定の問題です）。画面がオペレーターに届かないことがあります。お電話中のオペレーターにお伝えください。</translation>
        </message>
        <message>
            <location filename="../request.py" line="112" />
            <source>If you do not answer, the request is declined in {seconds} s.</source>
            <translation>お返事がない場合、{seconds}秒後に自動的にお断りします。</translation>
        </message>
        <message>
            <location filename="../request.py" line="116" />
            <source>An operator asks to see your screen</source>
            <translation>オペレーターが画面の表示を求めています</translation>
        </message>
        <message>
            <location filename="../request.py" line="117" />
            <source>May the operator see your screen?</source>
            <translation>オペレーターに画面を見せてもよろしいですか？</translation>
        </message>
        <message>
            <location filename="../request.py" line="120" />
            <source>{name} of {organisation} would like to see your screen.</source>
            <translation>{organisation}の{name}が、お客さまの画面の表示をお願いしています。</translation>
        </message>
        <message>
            <location filename="../request.py" line="125" />
            <source>Please check that this is the person you are speaking to on the phone.</source>
            <translation>お電話でお話ししている担当者であることをご確認ください。</translation>
        </message>
        <message>
            <location filename="../request.py" line="128" />
            <source>The operator can only see your screen and point at things. The operator cannot operate your computer. You can stop sharing at any time.</source>
            <translation>オペレーターは画面を見て指し示すことだけができ、お客さまのパソコンを操作することはできません。共有はいつでも止められます。</translation>
        </message>
        <message>
            <location filename="../request.py" line="132" />
            <source>Do not allow</source>
            <translation>許可しない</translation>
        </message>
        <message>
            <location filename="../request.py" line="133" />
            <source>Do not allow the operator to see your screen</source>
            <translation>オペレーターに画面を見せない</translation>
        </message>
        <message>
            <location filename="../request.py" line="134" />
            <source>Allow</source>
            <translation>許可する</translation>
        </message>
        <message>
            <location filename="../request.py" line="135" />
            <source>Allow the operator to see your screen</source>
            <translation>オペレーターに画面を見せる</translation>
        </message>
        <message>
            <location filename="../request.py" line="0" />
            <source>Also send information about this computer</source>
            <translation>このパソコンの情報もオペレーターに送る</translation>
        </message>
        <message>
            <location filename="../request.py" line="0" />
            <source>, </source>
            <translation>、</translation>
        </message>
        <message>
            <location filename="../request.py" line="0" />
            <source>{count} items: {names}. Untick to share only the screen.</source>
            <translation>{count}項目：{names}。画面だけを共有するときは、チェックを外してください。</translation>
        </message>
        <message>
            <location filename="../request.py" line="0" />
            <source>Show the values</source>
            <translation>送られる内容を見る</translation>
        </message>
        <message>
            <location filename="../request.py" line="0" />
            <source>Show the information that would be sent</source>
            <translation>オペレーターに送られる情報を見る</translation>
        </message>
    </context>
    <context>
        <name>SharingBar</name>
        <message>
            <location filename="../sharing_bar.py" line="174" />
            <source>Time shared: {time}</source>
            <translation>共有している時間：{time}</translation>
        </message>
        <message>
            <location filename="../sharing_bar.py" line="192" />
            <source>Screen {number}</source>
            <translation>画面{number}</translation>
        </message>
        <message>
            <location filename="../sharing_bar.py" line="193" />
            <source>All screens</source>
            <translation>すべての画面</translation>
        </message>
        <message>
            <location filename="../sharing_bar.py" line="201" />
            <source>Sharing paused ({name})</source>
            <translation>共有を一時停止中（{name}）</translation>
        </message>
        <message>
            <location filename="../sharing_bar.py" line="203" />
            <source>Sharing your screen with {name}</source>
            <translation>{name}と画面を共有しています</translation>
        </message>
        <message>
            <location filename="../sharing_bar.py" line="204" />
            <source>Resume</source>
            <translation>再開</translation>
        </message>
        <message>
            <location filename="../sharing_bar.py" line="204" />
            <source>Pause</source>
            <translation>一時停止</translation>
        </message>
        <message>
            <location filename="../sharing_bar.py" line="206" />
            <source>Resume sharing</source>
            <translation>共有を再開する</translation>
        </message>
        <message>
            <location filename="../sharing_bar.py" line="206" />
            <source>Pause sharing</source>
            <translation>共有を一時停止する</translation>
        </message>
        <message>
            <location filename="../sharing_bar.py" line="208" />
            <source>■ Stop sharing</source>
            <translation>■ 共有をやめる</translation>
        </message>
        <message>
            <location filename="../sharing_bar.py" line="209" />
            <source>Stop sharing now</source>
            <translation>今すぐ共有をやめる</translation>
        </message>
        <message>
            <location filename="../sharing_bar.py" line="210" />
            <source>Screen to share</source>
            <translation>共有する画面</translation>
        </message>
        <message>
            <location filename="../sharing_bar.py" line="213" />
            <source>The connection was interrupted. Reconnecting…</source>
            <translation>接続が途切れました。つなぎ直しています…</translation>
        </message>
        <message>
            <location filename="../sharing_bar.py" line="215" />
            <source>The operator's connection was lost. Waiting for them to come back…</source>
            <translation>オペレーターとの接続が切れました。再接続をお待ちしています…</translation>
        </message>
        <message>
            <location filename="../sharing_bar.py" line="217" />
            <source>The operator cannot see anything new until you press Resume.</source>
            <translation>「再開」を押すまで、オペレーターには新しい画面は表示されません。</translation>
        </message>
        <message>
            <location filename="../sharing_bar.py" line="221" />
            <source>Screen sharing support – sharing</source>
            <translation>画面共有サポート – 共有中</translation>
        </message>
    </context>
    <context>
        <name>SingleInstance</name>
        <message>
            <location filename="../single_instance.py" line="118" />
            <source>Screen sharing support</source>
            <translation>画面共有サポート</translation>
        </message>
        <message>
            <location filename="../single_instance.py" line="120" />
            <source>The screen sharing program is already running.</source>
            <translation>画面共有プログラムはすでに起動しています。</translation>
        </message>
        <message>
            <location filename="../single_instance.py" line="123" />
            <source>Please use the window that is already open.</source>
            <translation>開いている画面をお使いください。</translation>
        </message>
    </context>
    <context>
        <name>SummaryPage</name>
        <message>
            <location filename="../summary.py" line="129" />
            <source>{seconds} s</source>
            <translation>{seconds}秒</translation>
        </message>
        <message>
            <location filename="../summary.py" line="130" />
            <source>{minutes} min {seconds} s</source>
            <translation>{minutes}分{seconds}秒</translation>
        </message>
        <message>
            <location filename="../summary.py" line="135" />
            <source>All screens ({size})</source>
            <translation>すべての画面（{size}）</translation>
        </message>
        <message>
            <location filename="../summary.py" line="137" />
            <source>Screen {number} ({size})</source>
            <translation>画面{number}（{size}）</translation>
        </message>
        <message>
            <location filename="../summary.py" line="138" />
            <source>Your screen ({size})</source>
            <translation>お使いの画面（{size}）</translation>
        </message>
        <message>
            <location filename="../summary.py" line="142" />
            <source>You stopped sharing.</source>
            <translation>お客さまが共有を終了しました。</translation>
        </message>
        <message>
            <location filename="../summary.py" line="144" />
            <source>The connection to the operator was lost.</source>
            <translation>オペレーターとの接続が切れました。</translation>
        </message>
        <message>
            <location filename="../summary.py" line="146" />
            <source>The operator ended the session.</source>
            <translation>オペレーターが共有を終了しました。</translation>
        </message>
        <message>
            <location filename="../summary.py" line="148" />
            <source>The support centre ended the session.</source>
            <translation>サポートセンターが共有を終了しました。</translation>
        </message>
        <message>
            <location filename="../summary.py" line="150" />
            <source>The support centre closed the connection.</source>
            <translation>サポートセンターとの接続が終了しました。</translation>
        </message>
        <message>
            <location filename="../summary.py" line="152" />
            <source>The session ended after a long time without activity.</source>
            <translation>長い時間操作がなかったため、終了しました。</translation>
        </message>
        <message>
            <location filename="../summary.py" line="153" />
            <source>The connection was lost.</source>
            <translation>接続が切れました。</translation>
        </message>
        <message>
            <location filename="../summary.py" line="157" />
            <source>The request was not answered in time, so it was declined.</source>
            <translation>時間内にお返事がなかったため、お断りしました。</translation>
        </message>
        <message>
            <location filename="../summary.py" line="159" />
            <source>You declined the request.</source>
            <translation>お客さまが依頼をお断りになりました。</translation>
        </message>
        <message>
            <location filename="../summary.py" line="161" />
            <source>You cancelled before sharing started.</source>
            <translation>共有が始まる前にキャンセルされました。</translation>
        </message>
        <message>
            <location filename="../summary.py" line="163" />
            <source>The operator withdrew the request.</source>
            <translation>オペレーターが依頼を取り下げました。</translation>
        </message>
        <message>
            <location filename="../summary.py" line="164" />
            <source>The connection to the support centre was lost.</source>
            <translation>サポートセンターとの接続が切れました。</translation>
        </message>
        <message>
            <location filename="../summary.py" line="210" />
            <source>System information sent to the operator</source>
            <translation>オペレーターに送信したシステム情報</translation>
        </message>
        <message>
            <location filename="../summary.py" line="212" />
            <source>If you typed a password while your screen was shared, please change it now, to be safe.</source>
            <translation>画面の共有中にパスワードを入力された場合は、念のため、すぐにパスワードを変更してください。</translation>
        </message>
        <message>
            <location filename="../summary.py" line="214" />
            <source>Close</source>
            <translation>閉じる</translation>
        </message>
        <message>
            <location filename="../summary.py" line="215" />
            <source>Close the program</source>
            <translation>プログラムを終了する</translation>
        </message>
        <message>
            <location filename="../summary.py" line="216" />
            <source>Start again</source>
            <translation>もう一度始める</translation>
        </message>
        <message>
            <location filename="../summary.py" line="217" />
            <source>Start again with a new number</source>
            <translation>新しい番号でもう一度始める</translation>
        </message>
        <message>
            <location filename="../summary.py" line="228" />
            <source>Screen sharing has ended</source>
            <translation>画面の共有を終了しました</translation>
        </message>
        <message>
            <location filename="../summary.py" line="229" />
            <source>The operator can no longer see your screen.</source>
            <translation>オペレーターからお客さまの画面は見えなくなりました。</translation>
        </message>
        <message>
            <location filename="../summary.py" line="234" />
            <source>Shared with</source>
            <translation>共有した相手</translation>
        </message>
        <message>
            <location filename="../summary.py" line="235" />
            <source>{name} ({organisation})</source>
            <translation>{name}（{organisation}）</translation>
        </message>
        <message>
            <location filename="../summary.py" line="242" />
            <source>What was shared</source>
            <translation>共有した画面</translation>
        </message>
        <message>
            <location filename="../summary.py" line="244" />
            <source>Time shared</source>
            <translation>共有した時間</translation>
        </message>
        <message>
            <location filename="../summary.py" line="245" />
            <source>How it ended</source>
            <translation>終了の理由</translation>
        </message>
        <message>
            <location filename="../summary.py" line="251" />
            <source>Your screen was not shared</source>
            <translation>画面は共有されませんでした</translation>
        </message>
        <message>
            <location filename="../summary.py" line="254" />
            <source>You can close this window now. If the operator asks you to, press “Start again”.</source>
            <translation>このウィンドウは閉じていただいてかまいません。オペレーターから案内があった場合は、「もう一度始める」を押してください。</translation>
        </message>
    </context>
    <context>
        <name>SystemInfoPreview</name>
        <message>
            <location filename="../sysinfo_preview.py" line="0" />
            <source>Information about this computer</source>
            <translation>このパソコンの情報</translation>
        </message>
        <message>
            <location filename="../sysinfo_preview.py" line="0" />
            <source>This is what the operator would receive</source>
            <translation>オペレーターに送られる内容</translation>
        </message>
        <message>
            <location filename="../sysinfo_preview.py" line="0" />
            <source>Item</source>
            <translation>項目</translation>
        </message>
        <message>
            <location filename="../sysinfo_preview.py" line="0" />
            <source>Value</source>
            <translation>内容</translation>
        </message>
        <message>
            <location filename="../sysinfo_preview.py" line="0" />
            <source>Reading the information on this computer…</source>
            <translation>このパソコンの情報を読み取っています…</translation>
        </message>
        <message>
            <location filename="../sysinfo_preview.py" line="0" />
            <source>The information could not be read. Nothing has been sent.</source>
            <translation>情報を読み取れませんでした。何も送信していません。</translation>
        </message>
        <message>
            <location filename="../sysinfo_preview.py" line="0" />
            <source>Nothing has been sent yet. It is sent only if you allow, with the box ticked.</source>
            <translation>まだ何も送信していません。チェックを入れたまま「許可する」を押したときだけ送信されます。</translation>
        </message>
        <message>
            <location filename="../sysinfo_preview.py" line="0" />
            <source>Close</source>
            <translation>閉じる</translation>
        </message>
    </context>
    <context>
        <name>SystemInformation</name>
        <message>
            <location filename="../sysinfo_items.py" line="21" />
            <source>Operating system</source>
            <translation>OS</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="22" />
            <source>Version</source>
            <translation>バージョン</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="23" />
            <source>Service pack</source>
            <translation>サービスパック</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="24" />
            <source>Type of computer</source>
            <translation>機器の種類</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="25" />
            <source>Manufacturer</source>
            <translation>メーカー</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="26" />
            <source>Model</source>
            <translation>機種</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="27" />
            <source>Processor</source>
            <translation>CPU</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="28" />
            <source>Processor speed</source>
            <translation>CPUの速度</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="29" />
            <source>Memory</source>
            <translation>メモリー</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="30" />
            <source>Disk serial number</source>
            <translation>ディスクのシリアル番号</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="31" />
            <source>Free disk space</source>
            <translation>ディスクの空き容量</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="32" />
            <source>Internet Explorer version</source>
            <translation>Internet Explorerのバージョン</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="33" />
            <source>Web browser</source>
            <translation>ブラウザー</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="34" />
            <source>Web browser version</source>
            <translation>ブラウザーのバージョン</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="35" />
            <source>E-mail program</source>
            <translation>メールソフト</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="36" />
            <source>E-mail program version</source>
            <translation>メールソフトのバージョン</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="37" />
            <source>Router</source>
            <translation>ルーター</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="38" />
            <source>Firewall</source>
            <translation>ファイアウォール</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="39" />
            <source>Antivirus</source>
            <translation>ウイルス対策ソフト</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="40" />
            <source>Network adapter addresses (MAC)</source>
            <translation>ネットワークアダプターのアドレス（MAC）</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="41" />
            <source>IP addresses</source>
            <translation>IPアドレス</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="42" />
            <source>Installed programs</source>
            <translation>インストール済みのプログラム</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="55" />
            <source>not available</source>
            <translation>取得できませんでした</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="58" />
            <source>yes</source>
            <translation>あり</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="60" />
            <source>no</source>
            <translation>なし</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="71" />
            <source>{count} programs</source>
            <translation>{count}個のプログラム</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="76" />
            <source>on</source>
            <translation>有効</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="78" />
            <source>off</source>
            <translation>無効</translation>
        </message>
        <message>
            <location filename="../sysinfo_items.py" line="85" />
            <source>none found</source>
            <translation>見つかりません</translation>
        </message>
    </context>
</TS>
