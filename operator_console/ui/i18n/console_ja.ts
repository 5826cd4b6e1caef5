<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ja_JP" sourcelanguage="en">
  <context>
    <name>CobrowsePanel</name>
    <message>
      <source>en</source>
      <comment>the language code of this translation</comment>
      <translation>ja</translation>
    </message>
    <message>
      <source>Connected. Waiting for the customer's page…</source>
      <translation>接続しました。お客さまのページを待っています…</translation>
    </message>
    <message>
      <source>Sharing: the customer's page is shown in your web browser.</source>
      <translation>共有中: お客さまのページをWebブラウザーに表示しています。</translation>
    </message>
    <message>
      <source>This page is not shared</source>
      <translation>このページは共有されていません</translation>
    </message>
    <message>
      <source>Paused: the customer is typing</source>
      <translation>一時停止中: お客さまが入力中です</translation>
    </message>
    <message>
      <source>The customer is opening another page…</source>
      <translation>お客さまが別のページを開いています…</translation>
    </message>
    <message>
      <source>Sharing has ended</source>
      <translation>共有は終了しました</translation>
    </message>
    <message>
      <source>Page: {page}</source>
      <translation>ページ: {page}</translation>
    </message>
    <message>
      <source>Co-browsing (website)</source>
      <translation>コブラウズ（Webサイト）</translation>
    </message>
    <message>
      <source>Open the view in your browser</source>
      <translation>ブラウザーで表示を開く</translation>
    </message>
    <message>
      <source>The customer's page is shown in your web browser, with what they type hidden. Click on it to point at a place: the customer sees a circle there. You cannot type or operate the customer's page.</source>
      <translation>お客さまのページはWebブラウザーに表示されます。お客さまが入力した内容は隠されます。クリックした場所がポインターの円でお客さまのページに示されます。お客さまのページに入力したり操作したりすることはできません。</translation>
    </message>
    <message>
      <source>If the view did not open, paste this address into your browser:</source>
      <translation>表示が開かない場合は、このアドレスをブラウザーに貼り付けてください:</translation>
    </message>
  </context>
  <context>
    <name>CodePage</name>
    <message>
      <source>Enter the {n} digits the customer reads to you.</source>
      <translation>お客さまが読み上げる{n}桁の番号を入力してください。</translation>
    </message>
    <message>
      <source>Read this number to the customer; they type it on the start page of the support site, or after &quot;Share with staff&quot; on your company&apos;s website. Valid for {m}:{s:02d}.</source>
      <translation>この番号をお客さまにお伝えください。お客さまはサポートサイトのスタートページ、または当社サイトの「画面を係員と共有」で入力します。有効期限：残り {m}:{s:02d}</translation>
    </message>
    <message>
      <source>This number has expired. Issue a new one.</source>
      <translation>この番号は有効期限が切れました。新しい番号を発行してください。</translation>
    </message>
    <message>
      <source>Customer's number</source>
      <translation>お客さまの受付番号</translation>
    </message>
    <message>
      <source>Ask the customer for the {n}-digit number on their screen, type it and press Enter.</source>
      <translation>お客さまの画面に表示されている{n}桁の番号をお伺いし、入力して Enter を押してください。</translation>
    </message>
    <message>
      <source>Connect</source>
      <translation>接続</translation>
    </message>
    <message>
      <source>No number on the customer's screen? Issue a number: the customer types it on the start page of the support site, or after &quot;Share with staff&quot; on your company's website (co-browsing).</source>
      <translation>お客さまの画面に番号が出ていない場合は、番号を発行してください。お客さまはサポートサイトのスタートページ、または当社サイトの「画面を係員と共有」（コブラウズ）でその番号を入力します。</translation>
    </message>
    <message>
      <source>Issue a 6-digit number</source>
      <translation>6桁の番号を発行</translation>
    </message>
    <message>
      <source>Cancel this number</source>
      <translation>この番号を取り消す</translation>
    </message>
  </context>
  <context>
    <name>ConsoleWindow</name>
    <message>
      <source>Co-browsing: {kbps:,.1f} kbit/s from the customer's page</source>
      <translation>コブラウズ: お客さまのページから {kbps:,.1f} kbit/s</translation>
    </message>
    <message>
      <source>{fps:.1f} fps  |  {kbps:,.0f} kbit/s  |  round trip {rtt}  |  dropped {dropped}</source>
      <translation>{fps:.1f} fps  |  {kbps:,.0f} kbit/s  |  往復遅延 {rtt}  |  欠落 {dropped}</translation>
    </message>
    <message>
      <source>Logged in again; your tabs reconnect with the new login.</source>
      <translation>再度ログインしました。タブは新しいログインで中継サーバーに接続し直します。</translation>
    </message>
    <message>
      <source>Connecting the picture…</source>
      <translation>画面を受信しています…</translation>
    </message>
    <message>
      <source>Logged in as {who}</source>
      <translation>ログイン中：{who}</translation>
    </message>
    <message>
      <source>Madoguchi operator console</source>
      <translation>窓口 オペレーターコンソール</translation>
    </message>
    <message>
      <source>&amp;Session</source>
      <translation>セッション(&amp;S)</translation>
    </message>
    <message>
      <source>&amp;View</source>
      <translation>表示(&amp;V)</translation>
    </message>
    <message>
      <source>&amp;Tools</source>
      <translation>ツール(&amp;T)</translation>
    </message>
    <message>
      <source>&amp;Language</source>
      <translation>言語(&amp;L)</translation>
    </message>
    <message>
      <source>New session tab</source>
      <translation>新しいセッションタブ</translation>
    </message>
    <message>
      <source>Close tab (ends its session)</source>
      <translation>タブを閉じる（セッションを終了）</translation>
    </message>
    <message>
      <source>Enter customer's number</source>
      <translation>お客さまの受付番号を入力</translation>
    </message>
    <message>
      <source>Issue a 6-digit number</source>
      <translation>6桁の番号を発行</translation>
    </message>
    <message>
      <source>End session</source>
      <translation>セッションを終了</translation>
    </message>
    <message>
      <source>Quit</source>
      <translation>終了</translation>
    </message>
    <message>
      <source>Fit to window</source>
      <translation>ウィンドウに合わせる</translation>
    </message>
    <message>
      <source>Actual size (100%)</source>
      <translation>実際のサイズ (100%)</translation>
    </message>
    <message>
      <source>Show/hide side panel</source>
      <translation>サイドパネルの表示／非表示</translation>
    </message>
    <message>
      <source>Customer information</source>
      <translation>お客さま情報</translation>
    </message>
    <message>
      <source>Next tab</source>
      <translation>次のタブ</translation>
    </message>
    <message>
      <source>Previous tab</source>
      <translation>前のタブ</translation>
    </message>
    <message>
      <source>Pointer</source>
      <translation>ポインター</translation>
    </message>
    <message>
      <source>Keyboard guide…</source>
      <translation>キーボード表示…</translation>
    </message>
    <message>
      <source>Send keyboard guide</source>
      <translation>キーボード表示を送信</translation>
    </message>
    <message>
      <source>Hide keyboard guide from customer</source>
      <translation>キーボード表示をお客さまの画面から消す</translation>
    </message>
    <message>
      <source>Copy customer information</source>
      <translation>お客さま情報をコピー</translation>
    </message>
  </context>
  <context>
    <name>EndedPage</name>
    <message>
      <source>Session ended</source>
      <translation>セッション終了</translation>
    </message>
    <message>
      <source>Next customer</source>
      <translation>次のお客さまへ</translation>
    </message>
    <message>
      <source>Copied.</source>
      <translation>コピーしました。</translation>
    </message>
    <message>
      <source>How it ended:</source>
      <translation>終了の理由：</translation>
    </message>
    <message>
      <source>—</source>
      <translation>—</translation>
    </message>
    <message>
      <source>No customer information was received.</source>
      <translation>お客さま情報は受け取っていません。</translation>
    </message>
    <message>
      <source>Number:</source>
      <translation>受付番号：</translation>
    </message>
    <message>
      <source>Started:</source>
      <translation>開始時刻：</translation>
    </message>
    <message>
      <source>Duration:</source>
      <translation>共有した時間：</translation>
    </message>
    <message>
      <source>Customer information:</source>
      <translation>お客さま情報：</translation>
    </message>
    <message>
      <source>Your notes for the CRM:</source>
      <translation>CRM 用のメモ：</translation>
    </message>
    <message>
      <source>What the customer needed, what you did, what is next…</source>
      <translation>お客さまのご用件、対応内容、次の対応…</translation>
    </message>
    <message>
      <source>Notes stay on this screen only: they are never sent anywhere and never stored. Copy them into the CRM before you go to the next customer.</source>
      <translation>メモはこの画面にだけあり、どこにも送信されず、保存もされません。次のお客さまに進む前に CRM にコピーしてください。</translation>
    </message>
    <message>
      <source>Copy for the CRM</source>
      <translation>CRM 用にコピー</translation>
    </message>
    <message>
      <source>Copy the facts, your notes and the customer information</source>
      <translation>受付番号・時間・終了の理由、メモ、お客さま情報をコピーします</translation>
    </message>
  </context>
  <context>
    <name>KeyGuidePanel</name>
    <message>
      <source>Not available in co-browsing: only the pointer is shown on the customer's page.</source>
      <translation>コブラウズでは使えません。お客さまのページに表示されるのはポインターだけです。</translation>
    </message>
    <message>
      <source>At most {n} combinations at once.</source>
      <translation>一度に表示できる組み合わせは{n}つまでです。</translation>
    </message>
    <message>
      <source>Unknown key: {key}</source>
      <translation>不明なキーです：{key}</translation>
    </message>
    <message>
      <source>Type keys like ctrl+shift+esc (up to four keys).</source>
      <translation>ctrl+shift+esc のように入力してください（キーは4つまで）。</translation>
    </message>
    <message>
      <source>Choose at least one key first.</source>
      <translation>表示するキーを1つ以上選んでください。</translation>
    </message>
    <message>
      <source>Nothing is shown to the customer.</source>
      <translation>お客さまの画面には何も表示していません。</translation>
    </message>
    <message>
      <source>Not available in normal mode: the keyboard guide cannot be drawn outside the customer's browser.</source>
      <translation>通常版では使えません：キーボード表示はお客さまのブラウザーの外には表示できません。</translation>
    </message>
    <message>
      <source>Shown to the customer: {keys}</source>
      <translation>お客さまに表示中：{keys}</translation>
    </message>
    <message>
      <source>Common keys</source>
      <translation>よく使うキー</translation>
    </message>
    <message>
      <source>Or type a shortcut:</source>
      <translation>またはショートカットを入力：</translation>
    </message>
    <message>
      <source>e.g. ctrl+shift+esc</source>
      <translation>例：ctrl+shift+esc</translation>
    </message>
    <message>
      <source>Add</source>
      <translation>追加</translation>
    </message>
    <message>
      <source>Keys to show:</source>
      <translation>表示するキー：</translation>
    </message>
    <message>
      <source>Remove from list</source>
      <translation>リストから外す</translation>
    </message>
    <message>
      <source>Caption:</source>
      <translation>説明文：</translation>
    </message>
    <message>
      <source>e.g. Press these keys together</source>
      <translation>例：これらのキーを同時に押してください</translation>
    </message>
    <message>
      <source>Send</source>
      <translation>送信</translation>
    </message>
    <message>
      <source>Show these keys on the customer's screen ({shortcut})</source>
      <translation>これらのキーをお客さまの画面に表示します（{shortcut}）</translation>
    </message>
    <message>
      <source>Hide from customer</source>
      <translation>お客さまの画面から消す</translation>
    </message>
    <message>
      <source>Remove the keyboard from the customer's screen</source>
      <translation>お客さまの画面からキーボード表示を消します</translation>
    </message>
    <message>
      <source>Hankaku/Zenkaku</source>
      <translation>半角/全角</translation>
    </message>
    <message>
      <source>PrtSc</source>
      <translation>PrtSc</translation>
    </message>
    <message>
      <source>Space</source>
      <translation>スペース</translation>
    </message>
    <message>
      <source>Take the selected keys off this list (nothing is sent)</source>
      <translation>選んだキーをこのリストから外します（お客さまには何も送りません）</translation>
    </message>
    <message>
      <source>The customer closed the keyboard guide.</source>
      <translation>お客さまがキーボード表示を閉じました。</translation>
    </message>
  </context>
  <context>
    <name>LoginDialog</name>
    <message>
      <source>Logging in…</source>
      <translation>ログインしています…</translation>
    </message>
    <message>
      <source>Enter your user name and password.</source>
      <translation>ユーザー名とパスワードを入力してください。</translation>
    </message>
    <message>
      <source>Warning: this address is not encrypted (http://). Use https://.</source>
      <translation>注意：このアドレスは暗号化されていません (http://)。https:// をご利用ください。</translation>
    </message>
    <message>
      <source>Madoguchi operator console – log in</source>
      <translation>窓口 オペレーターコンソール – ログイン</translation>
    </message>
    <message>
      <source>Log in to the relay</source>
      <translation>中継サーバーにログイン</translation>
    </message>
    <message>
      <source>Relay address:</source>
      <translation>中継サーバーのアドレス：</translation>
    </message>
    <message>
      <source>User name:</source>
      <translation>ユーザー名：</translation>
    </message>
    <message>
      <source>Password:</source>
      <translation>パスワード：</translation>
    </message>
    <message>
      <source>Language:</source>
      <translation>言語：</translation>
    </message>
    <message>
      <source>Log in</source>
      <translation>ログイン</translation>
    </message>
    <message>
      <source>Quit</source>
      <translation>終了</translation>
    </message>
  </context>
  <context>
    <name>Messages</name>
    <message>
      <source>Try again in {n} min.</source>
      <translation>{n}分後に再度お試しください。</translation>
    </message>
    <message>
      <source>Try again in {n} s.</source>
      <translation>{n}秒後に再度お試しください。</translation>
    </message>
    <message>
      <source>That number is not valid. Ask the customer to read the number on their screen again.</source>
      <translation>番号が正しくありません。お客さまに画面の番号をもう一度読み上げていただいてください。</translation>
    </message>
    <message>
      <source>That number has expired. Ask the customer to start sharing again for a new number.</source>
      <translation>番号の有効期限が切れています。お客さまに共有をやり直していただき、新しい番号をお伺いください。</translation>
    </message>
    <message>
      <source>That number was already used. Ask the customer to start sharing again for a new number.</source>
      <translation>この番号はすでに使用されています。お客さまに共有をやり直していただき、新しい番号をお伺いください。</translation>
    </message>
    <message>
      <source>Too many attempts in a short time.</source>
      <translation>短時間に試行が集中しています。</translation>
    </message>
    <message>
      <source>Number entry is locked after too many wrong numbers.</source>
      <translation>誤った番号の入力が続いたため、番号入力を一時的に停止しています。</translation>
    </message>
    <message>
      <source>The service is busy right now (all sessions in use).</source>
      <translation>ただいま混み合っています（すべての接続枠が使用中です）。</translation>
    </message>
    <message>
      <source>You already have as many sessions open as you may. End one first.</source>
      <translation>同時に利用できるセッション数の上限に達しています。いずれかのセッションを終了してください。</translation>
    </message>
    <message>
      <source>This console is not compatible with the relay. Please update the console.</source>
      <translation>このコンソールは中継サーバーと互換性がありません。コンソールを更新してください。</translation>
    </message>
    <message>
      <source>The customer is no longer connected.</source>
      <translation>お客さまとの接続が切れています。</translation>
    </message>
    <message>
      <source>The connection was closed after a long time without activity.</source>
      <translation>一定時間操作がなかったため、接続を終了しました。</translation>
    </message>
    <message>
      <source>The relay is restarting for maintenance.</source>
      <translation>中継サーバーがメンテナンスのため再起動しています。</translation>
    </message>
    <message>
      <source>The relay cannot start new sessions right now. Sessions already running go on.</source>
      <translation>中継サーバーは現在、新しい接続を開始できません。接続中のセッションはそのまま続きます。</translation>
    </message>
    <message>
      <source>Something went wrong ({code}).</source>
      <translation>エラーが発生しました（{code}）。</translation>
    </message>
    <message>
      <source>The customer ended the session.</source>
      <translation>お客さまがセッションを終了しました。</translation>
    </message>
    <message>
      <source>You ended the session.</source>
      <translation>セッションを終了しました。</translation>
    </message>
    <message>
      <source>The session was ended.</source>
      <translation>セッションは終了しました。</translation>
    </message>
    <message>
      <source>The customer declined to share their screen.</source>
      <translation>お客さまが画面共有を拒否されました。</translation>
    </message>
    <message>
      <source>The customer did not answer in time.</source>
      <translation>お客さまからの許可が時間内にありませんでした。</translation>
    </message>
    <message>
      <source>The connection to the relay was lost.</source>
      <translation>中継サーバーとの接続が切れました。</translation>
    </message>
    <message>
      <source>The customer's connection was lost.</source>
      <translation>お客さまとの接続が切れました。</translation>
    </message>
    <message>
      <source>The session ended after a long time without activity.</source>
      <translation>一定時間操作がなかったため、セッションを終了しました。</translation>
    </message>
    <message>
      <source>The relay shut down and ended the session.</source>
      <translation>中継サーバーが停止したため、セッションを終了しました。</translation>
    </message>
    <message>
      <source>The connection to the customer was lost for too long. The session has ended.</source>
      <translation>お客さまとの接続が切れた状態が長く続いたため、セッションを終了しました。</translation>
    </message>
    <message>
      <source>An administrator ended the session.</source>
      <translation>管理者がセッションを終了しました。</translation>
    </message>
    <message>
      <source>Wrong user name or password.</source>
      <translation>ユーザー名またはパスワードが正しくありません。</translation>
    </message>
    <message>
      <source>This account is locked or disabled. Please contact your administrator.</source>
      <translation>このアカウントはロックまたは無効化されています。管理者にお問い合わせください。</translation>
    </message>
    <message>
      <source>The relay cannot check logins right now. Sessions already open carry on. Try again in a few minutes.</source>
      <translation>中継サーバーが現在ログインを確認できません。開いているセッションはそのまま続けられます。数分後に再度お試しください。</translation>
    </message>
    <message>
      <source>Too many failed logins. Wait a few minutes, then try again.</source>
      <translation>ログインの失敗が続いています。数分待ってから再度お試しください。</translation>
    </message>
    <message>
      <source>Cannot reach the relay. Check the address and your network connection.</source>
      <translation>中継サーバーに接続できません。アドレスとネットワーク接続をご確認ください。</translation>
    </message>
    <message>
      <source>The relay's security certificate could not be verified. Contact your administrator.</source>
      <translation>中継サーバーのセキュリティ証明書を確認できませんでした。管理者にお問い合わせください。</translation>
    </message>
    <message>
      <source>This console version is not compatible with the relay. Please update the console.</source>
      <translation>このバージョンのコンソールは中継サーバーと互換性がありません。コンソールを更新してください。</translation>
    </message>
    <message>
      <source>The relay no longer accepts your login. Enter your password above; this tab stays open.</source>
      <translation>中継サーバーがログインを受け付けなくなりました。上の欄にパスワードを入力してください。このタブはそのまま残ります。</translation>
    </message>
    <message>
      <source>Your network's proxy refused the connection to the relay. Ask your administrator to let the relay's address through, or to give the console the proxy's user name and password.</source>
      <translation>ネットワークのプロキシーが中継サーバーへの接続を拒否しました。中継サーバーのアドレスを通すか、コンソールにプロキシーのユーザー名とパスワードを設定するよう、管理者に依頼してください。</translation>
    </message>
    <message>
      <source>The relay address must start with https:// or http://.</source>
      <translation>中継サーバーのアドレスは https:// または http:// で始めてください。</translation>
    </message>
    <message>
      <source>The TURN server refused this session's credentials, so the picture can reach you only where a direct path exists. Tell your administrator: the relay's TURN secret does not match the TURN server's.</source>
      <translation>TURNサーバーがこのセッションの認証情報を拒否しました。そのため、画面は直接つながる経路がある場合にしか届きません。管理者にお伝えください：中継サーバーのTURNシークレットがTURNサーバーのものと一致していません。</translation>
    </message>
    <message>
      <source>This PC does not trust the TURN server's certificate, so the picture cannot use TURN over TLS. Tell your administrator: install the TURN server's CA on this PC or give the TURN server a certificate from a public CA.</source>
      <translation>このPCはTURNサーバーの証明書を信頼していないため、画面はTLS経由のTURNを使えません。管理者にお伝えください：TURNサーバーのCA証明書をこのPCに入れるか、TURNサーバーに公的な認証局の証明書を設定してください。</translation>
    </message>
    <message>
      <source>Login failed. Please try again.</source>
      <translation>ログインできませんでした。もう一度お試しください。</translation>
    </message>
  </context>
  <context>
    <name>ReloginBar</name>
    <message>
      <source>Logging in…</source>
      <translation>ログインしています…</translation>
    </message>
    <message>
      <source>Enter your password.</source>
      <translation>パスワードを入力してください。</translation>
    </message>
    <message>
      <source>The relay no longer accepts your login as {user} (it expired or was ended). Enter your password to continue. Your tabs stay open; a session on screen goes on.</source>
      <translation>中継サーバーが {user} のログインを受け付けなくなりました（有効期限切れ、または終了されました）。続けるにはパスワードを入力してください。タブは閉じません。表示中のセッションも続きます。</translation>
    </message>
    <message>
      <source>Password:</source>
      <translation>パスワード：</translation>
    </message>
    <message>
      <source>Log in again</source>
      <translation>再ログイン</translation>
    </message>
  </context>
  <context>
    <name>SessionTab</name>
    <message>
      <source>Co-browsing (website)</source>
      <translation>コブラウズ（Webサイト）</translation>
    </message>
    <message>
      <source>The customer shares only the pages of your company's website in their browser.</source>
      <translation>お客さまはブラウザーで当社Webサイトのページだけを共有しています。</translation>
    </message>
    <message>
      <source>Co-browsing: point by clicking on the page in the view in your browser. The keyboard guide is not available.</source>
      <translation>コブラウズ: ブラウザーの表示でページをクリックするとポインターで示せます。キーボード表示は使えません。</translation>
    </message>
    <message>
      <source>Connecting to the relay…</source>
      <translation>中継サーバーに接続しています…</translation>
    </message>
    <message>
      <source>Checking the number…</source>
      <translation>番号を確認しています…</translation>
    </message>
    <message>
      <source>The relay connection was lost. Try again.</source>
      <translation>中継サーバーとの接続が切れました。もう一度お試しください。</translation>
    </message>
    <message>
      <source>Waiting for the customer to type the number…</source>
      <translation>お客さまの番号入力をお待ちしています…</translation>
    </message>
    <message>
      <source>The number was cancelled.</source>
      <translation>番号を取り消しました。</translation>
    </message>
    <message>
      <source>The number you issued expired before the customer typed it. Issue a new one.</source>
      <translation>発行した番号は、お客さまが入力する前に有効期限が切れました。新しい番号を発行してください。</translation>
    </message>
    <message>
      <source>All screens</source>
      <translation>すべての画面</translation>
    </message>
    <message>
      <source>The customer chooses which screen to share.</source>
      <translation>共有する画面はお客さまが選びます。</translation>
    </message>
    <message>
      <source>Screen {n} ({w}×{h})</source>
      <translation>画面{n}（{w}×{h}）</translation>
    </message>
    <message>
      <source>, primary</source>
      <translation>、メイン</translation>
    </message>
    <message>
      <source>The customer's connection dropped. Reconnecting…</source>
      <translation>お客さまとの接続が途切れました。再接続しています…</translation>
    </message>
    <message>
      <source>Your connection to the relay dropped. Reconnecting… The picture goes on meanwhile.</source>
      <translation>中継サーバーとの接続が途切れました。再接続しています…　その間も画面は表示されます。</translation>
    </message>
    <message>
      <source>The relay restarted and no longer knows this session. The picture goes on; End session still ends it for the customer.</source>
      <translation>中継サーバーが再起動したため、このセッションを認識していません。画面の表示は続きます。「セッションを終了」でお客さま側も終了します。</translation>
    </message>
    <message>
      <source>Paused by the customer. The picture resumes when they continue sharing.</source>
      <translation>お客さまが共有を一時停止しています。共有が再開されると画面が表示されます。</translation>
    </message>
    <message>
      <source>{code} · live</source>
      <translation>{code}・共有中</translation>
    </message>
    <message>
      <source>{code} · waiting</source>
      <translation>{code}・許可待ち</translation>
    </message>
    <message>
      <source>Ended</source>
      <translation>終了</translation>
    </message>
    <message>
      <source>New session</source>
      <translation>新しいセッション</translation>
    </message>
    <message>
      <source>Screen:</source>
      <translation>画面：</translation>
    </message>
    <message>
      <source>Fit</source>
      <translation>全体表示</translation>
    </message>
    <message>
      <source>Fit the picture to the window (Ctrl+0)</source>
      <translation>画面全体をウィンドウに合わせて表示します（Ctrl+0）</translation>
    </message>
    <message>
      <source>100%</source>
      <translation>100%</translation>
    </message>
    <message>
      <source>Show the picture at its real size (Ctrl+1)</source>
      <translation>実際のサイズで表示します（Ctrl+1）</translation>
    </message>
    <message>
      <source>Pointer: on</source>
      <translation>ポインター：オン</translation>
    </message>
    <message>
      <source>Point on the customer's screen with your mouse; off hides the pointer (Ctrl+P)</source>
      <translation>マウスでお客さまの画面を指し示します。オフにするとポインターを消します（Ctrl+P）</translation>
    </message>
    <message>
      <source>Normal mode (browser)</source>
      <translation>通常版（ブラウザー）</translation>
    </message>
    <message>
      <source>The customer shares from their web browser; nothing is installed.</source>
      <translation>お客さまはブラウザーから共有しています（インストールなし）。</translation>
    </message>
    <message>
      <source>Normal mode (browser): the pointer and the keyboard guide are not available, because they cannot be drawn outside the customer's browser.</source>
      <translation>通常版（ブラウザー）：ポインターとキーボード表示は使えません。お客さまのブラウザーの外には表示できないためです。</translation>
    </message>
    <message>
      <source>Not available in normal mode: the pointer cannot be drawn outside the customer's browser.</source>
      <translation>通常版では使えません：ポインターはお客さまのブラウザーの外には表示できません。</translation>
    </message>
    <message>
      <source>End session</source>
      <translation>セッションを終了</translation>
    </message>
    <message>
      <source>End this session (Ctrl+E)</source>
      <translation>このセッションを終了します（Ctrl+E）</translation>
    </message>
    <message>
      <source>Keyboard guide</source>
      <translation>キーボード表示</translation>
    </message>
    <message>
      <source>Customer information</source>
      <translation>お客さま情報</translation>
    </message>
    <message>
      <source>Pointer: off</source>
      <translation>ポインター：オフ</translation>
    </message>
    <message>
      <source>Keep sharing</source>
      <translation>共有を続ける</translation>
    </message>
    <message>
      <source>End this session? The customer's screen will no longer be shown to you.</source>
      <translation>セッションを終了しますか？　お客さまの画面は表示されなくなります。</translation>
    </message>
    <message>
      <source>{code} · ended</source>
      <translation>{code}・終了</translation>
    </message>
  </context>
  <context>
    <name>SysInfo</name>
    <message>
      <source>Service pack</source>
      <translation>サービスパック</translation>
    </message>
    <message>
      <source>Manufacturer</source>
      <translation>メーカー</translation>
    </message>
    <message>
      <source>Model</source>
      <translation>機種</translation>
    </message>
    <message>
      <source>Free disk space</source>
      <translation>ディスクの空き容量</translation>
    </message>
    <message>
      <source>Internet Explorer version</source>
      <translation>Internet Explorerのバージョン</translation>
    </message>
    <message>
      <source>Router</source>
      <translation>ルーター</translation>
    </message>
    <message>
      <source>Firewall</source>
      <translation>ファイアウォール</translation>
    </message>
    <message>
      <source>Antivirus</source>
      <translation>ウイルス対策ソフト</translation>
    </message>
    <message>
      <source>IP addresses</source>
      <translation>IPアドレス</translation>
    </message>
    <message>
      <source>Yes</source>
      <translation>あり</translation>
    </message>
    <message>
      <source>No</source>
      <translation>なし</translation>
    </message>
    <message>
      <source>{n} items</source>
      <translation>{n}件</translation>
    </message>
    <message>
      <source>On</source>
      <translation>有効</translation>
    </message>
    <message>
      <source>Off</source>
      <translation>無効</translation>
    </message>
    <message>
      <source>Operating system</source>
      <translation>OS</translation>
    </message>
    <message>
      <source>Version</source>
      <translation>バージョン</translation>
    </message>
    <message>
      <source>Type of computer</source>
      <translation>機器の種類</translation>
    </message>
    <message>
      <source>Processor</source>
      <translation>CPU</translation>
    </message>
    <message>
      <source>Processor speed</source>
      <translation>CPUの速度</translation>
    </message>
    <message>
      <source>Memory</source>
      <translation>メモリー</translation>
    </message>
    <message>
      <source>Disk serial number</source>
      <translation>ディスクのシリアル番号</translation>
    </message>
    <message>
      <source>Web browser</source>
      <translation>ブラウザー</translation>
    </message>
    <message>
      <source>Web browser version</source>
      <translation>ブラウザーのバージョン</translation>
    </message>
    <message>
      <source>E-mail program</source>
      <translation>メールソフト</translation>
    </message>
    <message>
      <source>E-mail program version</source>
      <translation>メールソフトのバージョン</translation>
    </message>
    <message>
      <source>Network adapter addresses (MAC)</source>
      <translation>ネットワークアダプターのアドレス（MAC）</translation>
    </message>
    <message>
      <source>Installed programs</source>
      <translation>インストール済みのプログラム</translation>
    </message>
  </context>
  <context>
    <name>SysInfoPanel</name>
    <message>
      <source>The customer chose not to share PC information.</source>
      <translation>お客さまはPC情報を共有しませんでした。</translation>
    </message>
    <message>
      <source>Detailed mode (installed agent)</source>
      <translation>詳細版（インストールしたツール）</translation>
    </message>
    <message>
      <source>Normal mode (browser): OS and browser only</source>
      <translation>通常版（ブラウザー）：OSとブラウザーのみ</translation>
    </message>
    <message>
      <source>unavailable</source>
      <translation>取得不可</translation>
    </message>
    <message>
      <source>Item</source>
      <translation>項目</translation>
    </message>
    <message>
      <source>Value</source>
      <translation>値</translation>
    </message>
    <message>
      <source>The customer's system information appears here once it arrives.</source>
      <translation>お客さまのシステム情報を受信すると、ここに表示されます。</translation>
    </message>
    <message>
      <source>Copy as text</source>
      <translation>テキストとしてコピー</translation>
    </message>
  </context>
  <context>
    <name>WaitingPage</name>
    <message>
      <source>{n} s</source>
      <translation>残り {n} 秒</translation>
    </message>
    <message>
      <source>Waiting for the customer to allow…</source>
      <translation>お客さまの許可をお待ちしています…</translation>
    </message>
    <message>
      <source>The customer sees your name and organisation and clicks Allow to start sharing.</source>
      <translation>お客さまの画面にあなたの氏名と所属が表示され、お客さまが「許可する」を押すと共有が始まります。</translation>
    </message>
    <message>
      <source>Cancel</source>
      <translation>キャンセル</translation>
    </message>
  </context>
</TS>