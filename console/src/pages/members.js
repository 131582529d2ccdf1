import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { t } from '../i18n.js'
import { get, getOr } from '../api.js'
import { Card, Load, useLoad, Table, Form, ErrorBox, money, fmt, Tabs } from '../ui.js'

function Profile({ id, onClose }) {
  const [tab, setTab] = useState('points')
  const st = useLoad(async () => {
    const [m, points, ledger, tiers, groups, exp] = await Promise.all([
      get('/v1/members/' + id), getOr(`/v1/members/${id}/points`, null), getOr(`/v1/members/${id}/ledger?limit=50`, { data: [] }),
      getOr(`/v1/members/${id}/tier-history`, { data: [] }), getOr(`/v1/members/${id}/groups`, { data: [] }),
      // Identities are in the member's export (admin scope); others see none.
      getOr(`/v1/members/${id}/export`, null)])
    return { m, points, ledger: ledger.data || [], tiers: tiers.data || [], groups: groups.data || [], identities: (exp && exp.identities) || [] }
  }, [id])
  return html`<${Card} title=${t('profile')} id="member-profile" extra=${html`<button class="link" onClick=${onClose}>${t('close')}</button>`}>
    <${Load} state=${st}>${(p) => html`
      <div class="profile">
        <div><h3>${p.m.name || p.m.id}</h3><div class="muted mono">${p.m.id}</div></div>
        <dl class="facts">
          <dt>${t('tier')}</dt><dd>${fmt(p.m.tier)}</dd><dt>${t('stage')}</dt><dd>${fmt(p.m.stage)}</dd>
          <dt>${t('channel')}</dt><dd>${fmt(p.m.channel)}</dd><dt>${t('points')}</dt><dd>${p.points ? p.points.balance : p.m.points}</dd>
          <dt>${t('orders')}</dt><dd>${p.m.order_count}</dd><dt>GMV</dt><dd>${p.m.spend ? money(p.m.spend.amount, p.m.spend.currency) : '—'}</dd>
          <dt>${t('tag')}</dt><dd>${fmt(p.m.tags)}</dd><dt>${t('email')}</dt><dd>${fmt(p.m.email)}</dd>
        </dl>
      </div>
      <${Tabs} current=${tab} onChange=${setTab} tabs=${[['points', t('ledger')], ['identities', t('identities')], ['tiers', t('tierHistory')], ['groups', t('memberGroups')]]} />
      ${tab === 'points' && html`<${Table} rows=${p.ledger} cols=${[{ label: t('type'), key: 'type' }, { label: t('amount'), key: 'amount' }, { label: t('balance'), key: 'balance' }, { label: t('source'), key: 'source' }, { label: t('at'), key: 'effective_at' }]} />`}
      ${tab === 'identities' && html`<${Table} rows=${p.identities} cols=${[{ label: t('provider'), key: 'provider' }, { label: t('externalId'), key: 'external_id' }]} />`}
      ${tab === 'tiers' && html`<${Table} rows=${p.tiers} cols=${[{ label: 'from', key: 'from' }, { label: 'to', key: 'to' }, { label: 'reason', key: 'reason' }, { label: t('at'), key: 'at' }]} />`}
      ${tab === 'groups' && html`<${Table} rows=${p.groups} cols=${[{ label: t('group'), key: 'group_id' }, { label: t('role'), key: 'role' }, { label: t('joinedAt'), key: 'joined_at' }]} />`}
    `}<//>
  <//>`
}

export function Members() {
  const [filter, setFilter] = useState({})
  const [open, setOpen] = useState(null)
  const [err, setErr] = useState(null)
  const st = useLoad(() => {
    const q = Object.entries(filter).filter(([, v]) => v).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')
    return get('/v1/members?limit=50' + (q ? '&' + q : ''))
  }, [JSON.stringify(filter)])
  const lookup = async (v) => {
    setErr(null)
    try {
      const m = await get(`/v1/members/lookup?provider=${encodeURIComponent(v.provider)}&external_id=${encodeURIComponent(v.external_id)}`)
      setOpen(m.id)
    } catch (e) { setErr(e) }
  }
  return html`<div id="page-members">
    ${open && html`<${Profile} id=${open} onClose=${() => setOpen(null)} />`}
    <${Card} title=${t('search')}>
      <div class="filters">
        <${Form} id="member-filter" label=${t('search')} submit=${(v) => setFilter({ ...v })} fields=${[
          { name: 'tag', label: t('tag') }, { name: 'tier', label: t('tier') },
          { name: 'stage', label: t('stage'), type: 'select', options: [['', '—'], ['new', 'new'], ['active', 'active'], ['silent', 'silent'], ['churned', 'churned'], ['won_back', 'won_back']] },
          { name: 'channel', label: t('channel') }, { name: 'rfm', label: 'RFM (5**)' }]} />
        <${Form} id="member-lookup" label=${t('lookup')} submit=${lookup} fields=${[
          { name: 'provider', label: t('provider'), required: true }, { name: 'external_id', label: t('externalId'), required: true }]} />
      </div>
      <${ErrorBox} error=${err} />
    <//>
    <${Card} title=${t('members')}>
      <${Load} state=${st}>${(page) => html`<${Table} id="members-table" onRow=${(m) => setOpen(m.id)} rows=${page.data} cols=${[
        { label: t('name'), render: (m) => html`<b>${m.name || '—'}</b>` }, { label: t('tier'), key: 'tier' },
        { label: t('stage'), key: 'stage' }, { label: t('channel'), key: 'channel' }, { label: t('points'), key: 'points' },
        { label: t('orders'), key: 'order_count' }, { label: t('tag'), key: 'tags' }, { label: t('joinedAt'), key: 'joined_at' }]} />`}<//>
    <//>
  </div>`
}
