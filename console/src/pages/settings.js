import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { t } from '../i18n.js'
import { all, get, patch, post, del } from '../api.js'
import { Card, Load, useLoad, Table, Form, Tabs, Badge, ErrorBox, idem } from '../ui.js'

function Staff({ me }) {
  const st = useLoad(async () => ({ staff: (await get('/v1/staff')).data, groups: await all('/v1/groups') }))
  const [err, setErr] = useState(null)
  const act = async (fn) => { setErr(null); try { await fn(); st.reload() } catch (e) { setErr(e) } }
  const roles = ['owner', 'admin', 'operator', 'analyst']
  return html`<${Load} state=${st}>${({ staff, groups }) => html`
    <${Table} id="staff-table" rows=${staff} cols=${[
      { label: t('email'), render: (s) => html`${s.email}${me && s.id === me.id ? html` <${Badge}>${t('me')}<//>` : null}` },
      { label: t('name'), key: 'name' }, { label: t('role'), render: (s) => t(s.role) },
      { label: t('groups'), render: (s) => (s.groups || []).map((g) => (groups.find((x) => x.id === g) || { name: g }).name).join('、') || '—' },
      { label: t('status'), render: (s) => html`<${Badge} tone=${s.status === 'active' ? 'good' : 'warn'}>${s.status}<//>` },
      { label: t('actions'), render: (s) => me && s.id === me.id ? '' : html`<button class="link" onClick=${() => act(() => patch('/v1/staff/' + s.id, { status: s.status === 'active' ? 'disabled' : 'active' }))}>${s.status === 'active' ? t('disable') : t('enable')}</button>` }]} />
    <${ErrorBox} error=${err} />
    <h3>${t('newStaff')}</h3>
    <${Form} id="staff-form" initial=${{ role: 'operator' }} submit=${async (v) => { await post('/v1/staff', { email: v.email, name: v.name || undefined, role: v.role || 'operator', password: v.password, groups: v.groups || [] }, idem()); st.reload() }} fields=${[
      { name: 'email', label: t('email'), type: 'email', required: true }, { name: 'name', label: t('name') },
      { name: 'role', label: t('role'), type: 'select', options: roles.map((r) => [r, t(r)]) },
      { name: 'password', label: t('password'), type: 'password', required: true },
      { name: 'groups', label: t('selectGroups'), type: 'multi', options: groups.map((g) => [g.id, g.name]) }]} />`}<//>`
}

function Keys() {
  const st = useLoad(() => get('/v1/api-keys'))
  const [shown, setShown] = useState(null)
  return html`<${Load} state=${st}>${(p) => html`
    <${Table} id="keys-table" rows=${p.data} cols=${[{ label: t('name'), key: 'name' }, { label: t('scopes'), key: 'scopes' }, { label: 'prefix', key: 'prefix' },
      { label: t('created'), key: 'created_at' }, { label: t('status'), render: (k) => k.revoked_at ? html`<${Badge} tone="warn">revoked<//>` : html`<${Badge} tone="good">active<//>` },
      { label: t('actions'), render: (k) => k.revoked_at ? '' : html`<button class="link" onClick=${async () => { await del('/v1/api-keys/' + k.id); st.reload() }}>${t('revoke')}</button>` }]} />
    ${shown && html`<div class="notice">${t('keyShown')} <code>${shown}</code></div>`}
    <h3>${t('newKey')}</h3>
    <${Form} id="key-form" initial=${{ scope: 'read' }} submit=${async (v) => { const k = await post('/v1/api-keys', { name: v.name, scopes: [v.scope || 'read'] }, idem()); setShown(k.key); st.reload() }} fields=${[
      { name: 'name', label: t('name'), required: true }, { name: 'scope', label: t('scopes'), type: 'select', options: [['read', 'read'], ['write', 'write'], ['admin', 'admin']] }]} />`}<//>`
}

function Integrations() {
  const st = useLoad(() => get('/v1/integrations'))
  const [secret, setSecret] = useState(null)
  return html`<${Load} state=${st}>${(p) => html`
    <${Table} id="integrations-table" rows=${p.data} cols=${[{ label: t('name'), key: 'name' }, { label: t('provider'), key: 'provider' },
      { label: t('webhookUrl'), render: (i) => html`<code class="wrap">${i.webhook_url}</code>` }, { label: t('created'), key: 'created_at' }]} />
    ${secret && html`<div class="notice">${t('keyShown')} <code>${secret}</code></div>`}
    <h3>${t('newIntegration')}</h3>
    <${Form} id="integration-form" initial=${{ provider: 'generic' }} submit=${async (v) => { const i = await post('/v1/integrations', { provider: v.provider || 'generic', name: v.name }, idem()); setSecret(i.secret || null); st.reload() }} fields=${[
      { name: 'name', label: t('name'), required: true }, { name: 'provider', label: t('provider'), type: 'select', options: [['generic', 'generic'], ['chat', 'chat']] }]} />`}<//>`
}

function Connectors() {
  const st = useLoad(() => get('/v1/connectors'))
  return html`<${Load} state=${st}>${(p) => html`
    <${Table} id="connectors-table" rows=${p.data} cols=${[{ label: t('name'), key: 'name' }, { label: t('kind'), key: 'kind' }, { label: t('url'), render: (c) => html`<code class="wrap">${c.url}</code>` }]} />
    <h3>${t('newConnector')}</h3>
    <${Form} id="connector-form" initial=${{ kind: 'wecom_robot' }} submit=${async (v) => { await post('/v1/connectors', { name: v.name, kind: v.kind || 'wecom_robot', url: v.url }, idem()); st.reload() }} fields=${[
      { name: 'name', label: t('name'), required: true }, { name: 'kind', label: t('kind'), type: 'select', options: ['wecom_robot', 'feishu', 'dingtalk', 'slack', 'discord', 'generic'].map((k) => [k, k]) },
      { name: 'url', label: t('url'), type: 'url', required: true }]} />`}<//>`
}

export function Settings({ me }) {
  const [tab, setTab] = useState('staff')
  return html`<div id="page-settings">
    <${Card} title=${t('settings')}>
      <${Tabs} current=${tab} onChange=${setTab} tabs=${[['staff', t('staff')], ['keys', t('apiKeys')], ['integrations', t('integrations')], ['connectors', t('connectors')]]} />
      ${tab === 'staff' && html`<${Staff} me=${me} />`}
      ${tab === 'keys' && html`<${Keys} />`}
      ${tab === 'integrations' && html`<${Integrations} />`}
      ${tab === 'connectors' && html`<${Connectors} />`}
    <//>
  </div>`
}

