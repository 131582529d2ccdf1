import { html } from 'htm/preact'
import { t } from '../i18n.js'
import { daily, series, weekOverWeek } from '../stats.js'
import { Card, Load, useLoad, money, Empty } from '../ui.js'
import { Chart, lineOption } from '../chart.js'

// Today's KPIs: the last 7 days (active members as a daily average, since each
// day counts its distinct active members) with week over week, and today's
// value with its growth against the same day last week (the route's `growth`).
const KPIS = ['new_members', 'active_members', 'messages', 'check_ins', 'orders', 'gmv', 'first_orders', 'group_joins']
const AVERAGED = new Set(['active_members'])

const Pct = ({ r }) => {
  if (r === null || r === undefined) return html` <span class="muted">—</span>`
  const pct = Math.round(r * 1000) / 10
  return html` <span class=${pct >= 0 ? 'up' : 'down'}>${pct >= 0 ? '▲' : '▼'} ${Math.abs(pct)}%</span>`
}

function Kpi({ k, st }) {
  const w = weekOverWeek(st, k)
  const avg = AVERAGED.has(k)
  const show = (v) => (k === 'gmv' ? money(v, st.currency) : Math.round(v).toLocaleString())
  return html`<div class="kpi" data-kpi=${k}>
    <div class="kpi-name">${t(k)}</div>
    <div class="kpi-value">${w ? show(avg ? w.cur / 7 : w.cur) : '—'}</div>
    <div class="kpi-sub">${avg ? t('avg7') : t('last7')} · ${t('wow')}${html`<${Pct} r=${w && w.pct} />`}</div>
    <div class="kpi-sub">${t('todayValue')} ${w ? show(w.today) : '—'} · ${t('vsLastWeek')}${html`<${Pct} r=${w && w.todayPct} />`}</div>
  </div>`
}

export function Today() {
  const st = useLoad(() => daily('tenant', 30))
  return html`<div id="page-today">
    <${Load} state=${st}>${(s) => {
      const pick = (keys) => keys.map((k) => [k, series(s, k)]).filter(([, v]) => v).map(([k, v]) => [t(k), v])
      const growth = pick(['new_members', 'group_joins', 'active_members'])
      const trade = pick(['orders', 'first_orders', 'check_ins', 'violations'])
      const gmv = series(s, 'gmv')
      return html`
        <div class="kpis">${KPIS.map((k) => html`<${Kpi} k=${k} st=${s} />`)}</div>
        <div class="grid2">
          <${Card} title=${t('trend30') + ' · ' + t('members')} id="chart-members">
            ${growth.length ? html`<${Chart} id="today-members" option=${lineOption(s.days, growth, { area: true })} />` : html`<${Empty} />`}
          <//>
          <${Card} title=${t('trend30') + ' · ' + t('orders') + ' / ' + t('check_ins')} id="chart-trade">
            ${trade.length ? html`<${Chart} id="today-trade" option=${lineOption(s.days, trade, { bar: true })} />` : html`<${Empty} />`}
          <//>
          <${Card} title=${t('trend30') + ' · ' + t('messages')} id="chart-messages">
            ${series(s, 'messages') ? html`<${Chart} id="today-messages" option=${lineOption(s.days, [[t('messages'), series(s, 'messages')]], { area: true })} />` : html`<${Empty} />`}
          <//>
          <${Card} title=${t('trend30') + ' · GMV'} id="chart-gmv">
            ${gmv ? html`<${Chart} id="today-gmv" option=${lineOption(s.days, [['GMV', gmv.map((v) => v / 100)]], { bar: true })} />` : html`<${Empty} />`}
          <//>
        </div>`
    }}<//>
  </div>`
}
