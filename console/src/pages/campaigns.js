import { html } from 'htm/preact'
import { t } from '../i18n.js'
import { useState } from 'preact/hooks'
import { all, get, getOr } from '../api.js'
import { Card, Load, useLoad, Table, Empty, money, Badge } from '../ui.js'

// Campaigns: GET /v1/campaigns; a row opens its review (复盘) from
// GET /v1/campaigns/{id}/results: total and per occurrence, budget and spend.
function budgetLine(r, m) {
  const b = r.budget || {}
  const sp = r.spent || {}
  const cap = [b.points ? b.points + ' ' + t('points') : '', b.money_minor ? m(b.money_minor) : ''].filter(Boolean).join(' + ') || '—'
  return `${t('budget')}: ${cap} · ${t('spent')}: ${sp.spent_points || 0} ${t('points')} + ${m(sp.spent_minor || 0)}`
}

function Results({ c, onClose }) {
  const st = useLoad(() => get(`/v1/campaigns/${c.id}/results`), [c.id])
  return html`<${Card} title=${t('results') + ' · ' + c.name} id="campaign-results" extra=${html`<button class="link" onClick=${onClose}>${t('close')}</button>`}>
    <${Load} state=${st}>${(r) => {
      const m = (v) => money(v, r.currency)
      const tot = r.total || {}
      return html`
        <div class="kpis">
          <div class="kpi"><div class="kpi-name">${t('reached')}</div><div class="kpi-value">${tot.reached ?? 0}</div></div>
          <div class="kpi"><div class="kpi-name">${t('participated')}</div><div class="kpi-value">${tot.participated ?? 0}</div></div>
          <div class="kpi"><div class="kpi-name">${t('converted')}</div><div class="kpi-value">${tot.converted ?? 0}</div></div>
          <div class="kpi"><div class="kpi-name">GMV · ROI</div><div class="kpi-value">${m(tot.gmv_minor || 0)}</div>
            <div class="kpi-sub">${t('cost')} ${m(tot.cost_total_minor || 0)} · ROI ${tot.roi === null || tot.roi === undefined ? '—' : tot.roi.toFixed(2)}</div></div>
        </div>
        <div class="muted small">${budgetLine(r, m)}</div>
        ${(r.occurrences || []).length ? html`<${Table} id="campaign-occurrences" rows=${r.occurrences} cols=${[
          { label: t('occurrence'), key: 'occurrence' }, { label: t('reached'), key: 'reached' }, { label: t('participated'), key: 'participated' },
          { label: t('converted'), key: 'converted' }, { label: t('orders'), key: 'orders' }, { label: 'GMV', render: (o) => m(o.gmv_minor) },
          { label: t('cost'), render: (o) => m(o.cost_total_minor) }, { label: 'ROI', render: (o) => (o.roi === null || o.roi === undefined ? '—' : o.roi.toFixed(2)) }]} />` : html`<${Empty} />`}`
    }}<//>
  <//>`
}

export function Campaigns() {
  const st = useLoad(() => all('/v1/campaigns'))
  const [open, setOpen] = useState(null)
  return html`<div id="page-campaigns">
    ${open && html`<${Results} c=${open} onClose=${() => setOpen(null)} />`}
    <${Card} title=${t('campaigns')}>
      <${Load} state=${st}>${(rows) => rows.length === 0 ? html`<${Empty}>${t('campaignsEmpty')}<//>` : html`<${Table} id="campaigns-table" rows=${rows} onRow=${(c) => setOpen(c)} cols=${[
        { label: t('name'), render: (c) => html`<b>${c.name}</b>` }, { label: t('kind'), key: 'kind' },
        { label: t('status'), render: (c) => html`<${Badge} tone=${c.status === 'running' ? 'good' : ''}>${c.status}<//>` },
        { label: t('starts'), key: 'starts_at' }, { label: t('ends'), key: 'ends_at' }]} />`}<//>
    <//>
  </div>`
}

export function Referrals() {
  const st = useLoad(async () => {
    const [program, stats, board, list] = await Promise.all([getOr('/v1/referrals/program', {}), getOr('/v1/referrals/stats', null),
      getOr('/v1/referrals/leaderboard', { data: [] }), getOr('/v1/referrals?limit=50', { data: [] })])
    return { program, stats, board: board.data || board.leaderboard || [], list: list.data || [] }
  })
  return html`<div id="page-referrals">
    <${Load} state=${st}>${(r) => {
      const tot = (r.stats && r.stats.stats && r.stats.stats.total) || {}
      const fr = r.stats && r.stats.stats && r.stats.stats.fission_rate
      return html`
        <div class="kpis">
          <div class="kpi"><div class="kpi-name">${t('joined')}</div><div class="kpi-value">${tot.joined ?? 0}</div></div>
          <div class="kpi"><div class="kpi-name">${t('qualified')}</div><div class="kpi-value">${tot.qualified ?? 0}</div></div>
          <div class="kpi"><div class="kpi-name">${t('confirmed')}</div><div class="kpi-value">${tot.confirmed ?? 0}</div></div>
          <div class="kpi"><div class="kpi-name">${t('fission')}</div><div class="kpi-value">${fr !== undefined && fr !== null ? Number(fr).toFixed(2) : '—'}</div></div>
          <div class="kpi"><div class="kpi-name">GMV</div><div class="kpi-value">${money(tot.gmv_minor || 0)}</div></div>
        </div>
        <div class="grid2">
          <${Card} title=${t('leaderboard')}><${Table} rows=${r.board.slice(0, 10)} cols=${[
            { label: '#', render: (_, i) => i + 1 }, { label: t('referrer'), render: (x) => x.name || x.member_id || x.referrer_id },
            { label: t('confirmed'), render: (x) => x.confirmed ?? x.count ?? '—' }]} /><//>
          <${Card} title=${t('program')}><pre class="json">${JSON.stringify(r.program, null, 2)}</pre><//>
        </div>
        <${Card} title=${t('referralList')}><${Table} id="referrals-table" rows=${r.list} cols=${[
          { label: t('referrer'), key: 'referrer_id' }, { label: t('invitee'), key: 'invitee_id' }, { label: t('status'), key: 'status' },
          { label: t('channel'), key: 'channel' }, { label: t('joinedAt'), key: 'joined_at' }]} /><//>`
    }}<//>
  </div>`
}

export function Deliveries() {
  const st = useLoad(() => get('/v1/deliveries?limit=100'))
  return html`<div id="page-deliveries">
    <${Card} title=${t('deliveries')}>
      <${Load} state=${st}>${(p) => html`<${Table} id="deliveries-table" rows=${p.data} cols=${[
        { label: t('at'), key: 'at' }, { label: t('kind'), key: 'kind' }, { label: t('target'), key: 'target' },
        { label: t('status'), render: (d) => html`<${Badge} tone=${d.status === 'sent' || d.status === 'delivered' ? 'good' : 'warn'}>${d.status}<//>` },
        { label: 'HTTP', key: 'http_status' }, { label: t('attempts'), key: 'attempts' }, { label: t('error'), key: 'error' }]} />`}<//>
    <//>
  </div>`
}
