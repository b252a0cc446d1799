/**
 * The editor side of the node set: one HTML document with each node's
 * registration, edit form and help text in English and Japanese. Kept as a
 * TypeScript string so `tsc` puts it next to the compiled nodes and
 * node-package.ts can write it where Node-RED expects it.
 */

const homeField = `
  <div class="form-row">
    <label for="node-input-home"><i class="fa fa-home"></i> Home / お宅</label>
    <input type="text" id="node-input-home">
  </div>`;
const nameField = `
  <div class="form-row">
    <label for="node-input-name"><i class="fa fa-tag"></i> Name / 名前</label>
    <input type="text" id="node-input-name">
  </div>`;

const homeConfig = `
<script type="text/javascript">
  RED.nodes.registerType('mimamori-home', {
    category: 'config',
    defaults: {
      name: { value: '' },
      home: { value: '*', required: true, validate: RED.validators.regex(/^(\\*|[a-z0-9][a-z0-9_-]{0,62})$/) }
    },
    label: function () { return this.name || (this.home === '*' ? 'all homes / 全てのお宅' : this.home); }
  });
</script>
<script type="text/html" data-template-name="mimamori-home">
  <div class="form-row">
    <label for="node-config-input-home"><i class="fa fa-home"></i> Home id</label>
    <input type="text" id="node-config-input-home" placeholder="home-1, or * for all homes">
  </div>
  <div class="form-row">
    <label for="node-config-input-name"><i class="fa fa-tag"></i> Name</label>
    <input type="text" id="node-config-input-name">
  </div>
</script>
<script type="text/html" data-help-name="mimamori-home">
  <p>One home watched by the hub, or all homes.</p>
  <h3>Properties</h3>
  <dl class="message-properties">
    <dt>Home id <span class="property-type">string</span></dt>
    <dd>The home's id as provisioned on the hub (e.g. <code>home-1</code>), or <code>*</code> for every home.
    With all homes, <code>finding out</code> and <code>notify</code> take the home from <code>msg.home</code>.</dd>
  </dl>
</script>
<script type="text/html" data-help-name="mimamori-home" data-lang="ja">
  <p>ハブが見守る一つのお宅、または全てのお宅。</p>
  <h3>プロパティ</h3>
  <dl class="message-properties">
    <dt>Home id <span class="property-type">文字列</span></dt>
    <dd>ハブに登録したお宅のID（例: <code>home-1</code>）。全てのお宅は <code>*</code>。
    全てのお宅の場合、<code>finding out</code> と <code>notify</code> は <code>msg.home</code> からお宅を決めます。</dd>
  </dl>
</script>`;

const kinds = ['kettle', 'water', 'gas', 'power', 'door', 'motion', 'button', 'climate', 'heartbeat'];

const eventIn = `
<script type="text/javascript">
  RED.nodes.registerType('mimamori event in', {
    category: 'mimamori',
    color: '#a6d4c8',
    defaults: {
      name: { value: '' },
      home: { value: '', type: 'mimamori-home', required: true },
      kinds: { value: [] }
    },
    inputs: 0,
    outputs: 1,
    icon: 'bridge.svg',
    paletteLabel: 'event in',
    label: function () { return this.name || ('event in' + (this.kinds && this.kinds.length ? ': ' + this.kinds.join(', ') : '')); },
    oneditprepare: function () {
      var kinds = this.kinds || [];
      $('#node-input-kinds-list input').each(function () { $(this).prop('checked', kinds.indexOf($(this).val()) !== -1); });
    },
    oneditsave: function () {
      var picked = [];
      $('#node-input-kinds-list input:checked').each(function () { picked.push($(this).val()); });
      this.kinds = picked;
    }
  });
</script>
<script type="text/html" data-template-name="mimamori event in">${nameField}${homeField}
  <div class="form-row">
    <label><i class="fa fa-filter"></i> Kinds / 種類</label>
    <div id="node-input-kinds-list" style="display:inline-block; width:70%">
      ${kinds.map((k) => `<label style="width:auto; margin-right:10px"><input type="checkbox" value="${k}" style="width:auto"> ${k}</label>`).join('\n      ')}
    </div>
  </div>
</script>
<script type="text/html" data-help-name="mimamori event in">
  <p>Canonical sensor events as they reach the hub's rule engine, for one home or all homes.</p>
  <h3>Properties</h3>
  <dl class="message-properties">
    <dt>Home</dt><dd>A <code>mimamori-home</code> config node.</dd>
    <dt>Kinds</dt><dd>The event kinds to pass on. None ticked: every event (heartbeats only when <code>heartbeat</code> is ticked).</dd>
  </dl>
  <h3>Outputs</h3>
  <dl class="message-properties">
    <dt>payload <span class="property-type">object</span></dt>
    <dd>The event: <code>kind</code>, <code>id</code>, <code>ts</code>, the kind's fields (e.g. <code>celsius</code> for climate,
    <code>open</code> and <code>door</code> for door), plus <code>home</code>, <code>device</code> and <code>at</code> (epoch ms).</dd>
    <dt>topic <span class="property-type">string</span></dt><dd><code>home/device/kind</code></dd>
    <dt>home, device, kind <span class="property-type">string</span></dt><dd>Copied from the event for switch nodes.</dd>
  </dl>
</script>
<script type="text/html" data-help-name="mimamori event in" data-lang="ja">
  <p>ハブのルールエンジンに届いたセンサーイベント（正規化済み）を、一つのお宅または全てのお宅について出力します。</p>
  <h3>プロパティ</h3>
  <dl class="message-properties">
    <dt>お宅</dt><dd><code>mimamori-home</code> 設定ノード。</dd>
    <dt>種類</dt><dd>通すイベントの種類。何も選ばないと全てのイベント（ハートビートは <code>heartbeat</code> を選んだときだけ）。</dd>
  </dl>
  <h3>出力</h3>
  <dl class="message-properties">
    <dt>payload <span class="property-type">オブジェクト</span></dt>
    <dd>イベント: <code>kind</code>、<code>id</code>、<code>ts</code>、種類ごとの項目（温湿度計は <code>celsius</code>、ドアは <code>open</code> と <code>door</code> など）と、
    <code>home</code>、<code>device</code>、<code>at</code>（エポックミリ秒）。</dd>
    <dt>topic <span class="property-type">文字列</span></dt><dd><code>お宅/機器/種類</code></dd>
    <dt>home, device, kind <span class="property-type">文字列</span></dt><dd>switch ノードで使いやすいようにイベントから複写。</dd>
  </dl>
</script>`;

const findingOut = `
<script type="text/javascript">
  RED.nodes.registerType('mimamori finding out', {
    category: 'mimamori',
    color: '#f3b567',
    defaults: {
      name: { value: '' },
      home: { value: '', type: 'mimamori-home', required: true },
      rule: { value: '', required: true, validate: RED.validators.regex(/^[a-z0-9][a-z0-9_-]{0,55}$/) },
      severity: { value: 'warning' },
      audience: { value: 'family' },
      messageEn: { value: '' },
      messageJa: { value: '' },
      expectedEn: { value: '' },
      expectedJa: { value: '' }
    },
    inputs: 1,
    outputs: 1,
    icon: 'alert.svg',
    align: 'right',
    paletteLabel: 'finding out',
    label: function () { return this.name || ('finding: ' + (this.rule || '?')); }
  });
</script>
<script type="text/html" data-template-name="mimamori finding out">${nameField}${homeField}
  <div class="form-row"><label for="node-input-rule"><i class="fa fa-bookmark"></i> Rule id</label><input type="text" id="node-input-rule" placeholder="heatstroke"></div>
  <div class="form-row"><label for="node-input-severity">Severity / 重要度</label>
    <select id="node-input-severity"><option value="info">info</option><option value="warning">warning</option><option value="critical">critical</option></select></div>
  <div class="form-row"><label for="node-input-audience">For / 対象</label>
    <select id="node-input-audience"><option value="family">family / 家族</option><option value="caregiver">caregiver / ケア担当</option><option value="operator">operator / 運営者</option></select></div>
  <div class="form-row"><label for="node-input-messageEn">Message (en)</label><input type="text" id="node-input-messageEn"></div>
  <div class="form-row"><label for="node-input-messageJa">メッセージ (ja)</label><input type="text" id="node-input-messageJa"></div>
  <div class="form-row"><label for="node-input-expectedEn">Expected (en)</label><input type="text" id="node-input-expectedEn"></div>
  <div class="form-row"><label for="node-input-expectedJa">期待 (ja)</label><input type="text" id="node-input-expectedJa"></div>
</script>
<script type="text/html" data-help-name="mimamori finding out">
  <p>Raises a custom finding. It becomes an alert and is escalated exactly like a finding from a built-in rule:
  the home's escalation policy, acknowledgements, quiet hours and history all apply. A repeat while the alert is open only counts.</p>
  <h3>Inputs</h3>
  <dl class="message-properties">
    <dt class="optional">home <span class="property-type">string</span></dt><dd>The home, when the config node is "all homes".</dd>
    <dt class="optional">message <span class="property-type">object | string</span></dt><dd><code>{ ja, en }</code> or one string; else <code>payload</code> if it is text; else the node's message.</dd>
    <dt class="optional">severity <span class="property-type">string</span></dt><dd><code>info</code>, <code>warning</code> or <code>critical</code>; overrides the node's.</dd>
    <dt class="optional">observed, expected <span class="property-type">object | string</span></dt><dd>What happened and what was expected: every alert explains itself.</dd>
    <dt class="optional">data <span class="property-type">object</span></dt><dd>Numbers, strings and booleans kept with the finding (e.g. <code>{ celsius: 32.5 }</code>).</dd>
    <dt class="optional">clear <span class="property-type">boolean</span></dt><dd><code>true</code> records that the condition ended; the alert stays open until a person resolves it.</dd>
  </dl>
  <h3>Outputs</h3>
  <dl class="message-properties">
    <dt>payload <span class="property-type">object</span></dt><dd><code>{ alertId, created, rule, state, home }</code>.</dd>
  </dl>
  <h3>Details</h3>
  <p>The alert's rule is <code>flow-</code> followed by the rule id, so a flow never merges into a built-in rule's alert.</p>
</script>
<script type="text/html" data-help-name="mimamori finding out" data-lang="ja">
  <p>独自の検知を上げます。組み込みルールの検知と全く同じようにアラートになり、エスカレーションされます
  （お宅のエスカレーション方針、確認応答、静かな時間帯、履歴）。アラートが開いている間の繰り返しは回数だけ数えます。</p>
  <h3>入力</h3>
  <dl class="message-properties">
    <dt class="optional">home <span class="property-type">文字列</span></dt><dd>設定ノードが「全てのお宅」のときのお宅。</dd>
    <dt class="optional">message <span class="property-type">オブジェクト | 文字列</span></dt><dd><code>{ ja, en }</code> か文字列。なければ文字列の <code>payload</code>、それもなければノードのメッセージ。</dd>
    <dt class="optional">severity <span class="property-type">文字列</span></dt><dd><code>info</code>、<code>warning</code>、<code>critical</code>。ノードの設定より優先。</dd>
    <dt class="optional">observed, expected <span class="property-type">オブジェクト | 文字列</span></dt><dd>何が起きたか、何が期待されていたか。全てのアラートは理由を説明します。</dd>
    <dt class="optional">data <span class="property-type">オブジェクト</span></dt><dd>検知と一緒に残す数値・文字列・真偽値（例 <code>{ celsius: 32.5 }</code>）。</dd>
    <dt class="optional">clear <span class="property-type">真偽値</span></dt><dd><code>true</code> で状態の終わりを記録します。アラートは人が解決するまで開いたままです。</dd>
  </dl>
  <h3>出力</h3>
  <dl class="message-properties">
    <dt>payload <span class="property-type">オブジェクト</span></dt><dd><code>{ alertId, created, rule, state, home }</code></dd>
  </dl>
  <h3>詳細</h3>
  <p>アラートのルール名は <code>flow-</code> + ルールIDです。フローが組み込みルールのアラートに混ざることはありません。</p>
</script>`;

const alertIn = `
<script type="text/javascript">
  RED.nodes.registerType('mimamori alert in', {
    category: 'mimamori',
    color: '#f3b567',
    defaults: {
      name: { value: '' },
      home: { value: '', type: 'mimamori-home', required: true },
      opened: { value: true },
      acknowledged: { value: true },
      resolved: { value: true }
    },
    inputs: 0,
    outputs: 1,
    icon: 'alert.svg',
    paletteLabel: 'alert in',
    label: function () { return this.name || 'alert in'; }
  });
</script>
<script type="text/html" data-template-name="mimamori alert in">${nameField}${homeField}
  <div class="form-row"><label>Changes / 変化</label>
    <label style="width:auto; margin-right:10px"><input type="checkbox" id="node-input-opened" style="width:auto"> opened / 発生</label>
    <label style="width:auto; margin-right:10px"><input type="checkbox" id="node-input-acknowledged" style="width:auto"> acknowledged / 確認</label>
    <label style="width:auto"><input type="checkbox" id="node-input-resolved" style="width:auto"> resolved / 解決</label>
  </div>
</script>
<script type="text/html" data-help-name="mimamori alert in">
  <p>Alert lifecycle changes: an alert opened, acknowledged by someone, or resolved.</p>
  <h3>Outputs</h3>
  <dl class="message-properties">
    <dt>payload <span class="property-type">object</span></dt>
    <dd><code>{ change, alertId, homeId, rule, severity, at, message: { ja, en } }</code>; <code>change</code> is
    <code>opened</code>, <code>acknowledged</code> or <code>resolved</code>.</dd>
    <dt>topic <span class="property-type">string</span></dt><dd><code>alert/opened</code>, <code>alert/acknowledged</code> or <code>alert/resolved</code>.</dd>
  </dl>
  <h3>Details</h3>
  <p>Messages carry no names or phone numbers. Wire an <code>http request</code> node after it to forward alerts to a chat service.</p>
</script>
<script type="text/html" data-help-name="mimamori alert in" data-lang="ja">
  <p>アラートの状態の変化: 発生、誰かの確認、解決。</p>
  <h3>出力</h3>
  <dl class="message-properties">
    <dt>payload <span class="property-type">オブジェクト</span></dt>
    <dd><code>{ change, alertId, homeId, rule, severity, at, message: { ja, en } }</code>。<code>change</code> は
    <code>opened</code>（発生）、<code>acknowledged</code>（確認）、<code>resolved</code>（解決）。</dd>
    <dt>topic <span class="property-type">文字列</span></dt><dd><code>alert/opened</code>、<code>alert/acknowledged</code>、<code>alert/resolved</code>。</dd>
  </dl>
  <h3>詳細</h3>
  <p>氏名や電話番号は含みません。後ろに <code>http request</code> ノードをつなぐとチャットサービスへ転送できます。</p>
</script>`;

const notify = `
<script type="text/javascript">
  RED.nodes.registerType('mimamori notify', {
    category: 'mimamori',
    color: '#f3b567',
    defaults: {
      name: { value: '' },
      home: { value: '', type: 'mimamori-home', required: true },
      group: { value: 'family', required: true },
      textEn: { value: '' },
      textJa: { value: '' }
    },
    inputs: 1,
    outputs: 1,
    icon: 'envelope.svg',
    align: 'right',
    paletteLabel: 'notify',
    label: function () { return this.name || ('notify ' + this.group); }
  });
</script>
<script type="text/html" data-template-name="mimamori notify">${nameField}${homeField}
  <div class="form-row"><label for="node-input-group">Group / 宛先</label>
    <select id="node-input-group"><option value="family">family / 家族</option><option value="caregiver">caregiver / ケア担当</option><option value="resident">resident / ご本人</option><option value="emergency">emergency / 緊急連絡先</option></select></div>
  <div class="form-row"><label for="node-input-textEn">Text (en)</label><input type="text" id="node-input-textEn"></div>
  <div class="form-row"><label for="node-input-textJa">本文 (ja)</label><input type="text" id="node-input-textJa"></div>
</script>
<script type="text/html" data-help-name="mimamori notify">
  <p>Sends a message to a home's contact group through the hub's notifier (SMS, or e-mail for contacts without a phone),
  each person in their own language. It is a message, not an alert: nobody is asked to acknowledge and nothing escalates.
  Use <code>finding out</code> for something that must be handled.</p>
  <h3>Inputs</h3>
  <dl class="message-properties">
    <dt class="optional">payload <span class="property-type">object | string</span></dt><dd><code>{ ja, en }</code> or one string; else the node's text.</dd>
    <dt class="optional">home <span class="property-type">string</span></dt><dd>The home, when the config node is "all homes".</dd>
    <dt class="optional">group <span class="property-type">string</span></dt><dd><code>family</code>, <code>caregiver</code>, <code>resident</code> or <code>emergency</code>.</dd>
  </dl>
  <h3>Outputs</h3>
  <dl class="message-properties">
    <dt>payload <span class="property-type">object</span></dt><dd><code>{ sent, failed, limited }</code>.</dd>
  </dl>
  <h3>Details</h3>
  <p>At most a few messages per home per hour go out this way (<code>limited: true</code> when one was held back), so a looping flow cannot flood anyone's phone.</p>
</script>
<script type="text/html" data-help-name="mimamori notify" data-lang="ja">
  <p>お宅の連絡先グループへ、ハブの通知機能（SMS。電話番号のない人はメール）でメッセージを送ります。各自の言語で届きます。
  これはお知らせでアラートではありません（確認応答もエスカレーションもありません）。対応が必要なことには <code>finding out</code> を使ってください。</p>
  <h3>入力</h3>
  <dl class="message-properties">
    <dt class="optional">payload <span class="property-type">オブジェクト | 文字列</span></dt><dd><code>{ ja, en }</code> か文字列。なければノードの本文。</dd>
    <dt class="optional">home <span class="property-type">文字列</span></dt><dd>設定ノードが「全てのお宅」のときのお宅。</dd>
    <dt class="optional">group <span class="property-type">文字列</span></dt><dd><code>family</code>、<code>caregiver</code>、<code>resident</code>、<code>emergency</code>。</dd>
  </dl>
  <h3>出力</h3>
  <dl class="message-properties">
    <dt>payload <span class="property-type">オブジェクト</span></dt><dd><code>{ sent, failed, limited }</code></dd>
  </dl>
  <h3>詳細</h3>
  <p>この方法で送れるのは一つのお宅あたり1時間に数通までです（止めたときは <code>limited: true</code>）。フローが繰り返しても誰かの電話をあふれさせません。</p>
</script>`;

/** The node set's editor HTML: registration, edit forms and bilingual help for every node. */
export const editorHtml = [homeConfig, eventIn, findingOut, alertIn, notify].join('\n');
