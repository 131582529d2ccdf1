import { html } from 'htm/preact'
import { t } from '../i18n.js'
import { get, getOr, hasRoute } from '../api.js'
import { Card, Load, useLoad, Table, Empty, money, Badge } from '../ui.js'

// Campaigns: GET /v1/campaigns (and each one's results) once that API exists; a
// 404 is the empty state.
export function Campaigns() {
  const st = useLoad(async () => {
    if (!(await hasRoute('GET', '/v1/campaigns'))) return null
    const list = await getOr('/v1/campaigns?limit=100', null)
    if (!list) return null
    const rows = list.data || []
    const withResults = await hasRoute('GET', '/v1/campaigns/{id}/results')
    const results = await Promise.all(rows.map((c) => (withResults ? getOr(`/v1/campaigns/${c.id}/results`, null) : null)))
    rows.forEach((c, i) => { c.results = results[i] })
    return rows
  })
  return html`<div id="page-campaigns">
    <${Card} title=${t('campaigns')}>
      <${Load} state=${st}>${(rows) => rows === null ? html`<${Empty}>${t('campaignsEmpty')}<//>` : html`<${Table} id="campaigns-table" rows=${rows} cols=${[
        { label: t('name'), key: 'name' }, { label: t('kind'), key: 'kind' },
        { label: t('status'), render: (c) => html`<${Badge} tone=${c.status === 'running' ? 'good' : ''}>${c.status}<//>` },
        { label: t('starts'), key: 'starts_at' }, { label: t('ends'), key: 'ends_at' },
        { label: 'ROI', render: (c) => (c.results && c.results.roi !== undefined ? c.results.roi : '—') }]} />`}<//>
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
