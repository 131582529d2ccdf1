import { html } from 'htm/preact'
import { t } from '../i18n.js'
import { daily, series, weekOverWeek } from '../stats.js'
import { Card, Load, useLoad, money, Empty } from '../ui.js'
import { Chart, lineOption } from '../chart.js'

const KPIS = ['new_members', 'group_joins', 'active_members', 'messages', 'check_ins', 'orders', 'first_orders', 'gmv']

function Kpi({ k, st }) {
  const w = weekOverWeek(st, k)
  const show = (v) => (k === 'gmv' ? money(v) : v.toLocaleString())
  const pct = w && w.pct !== null ? Math.round(w.pct * 1000) / 10 : null
  return html`<div class="kpi" data-kpi=${k}>
    <div class="kpi-name">${t(k)}</div>
    <div class="kpi-value">${w ? show(w.cur) : '—'}</div>
    <div class="kpi-sub">${t('last7')} · ${t('wow')}
      ${pct === null ? html` <span class="muted">—</span>` : html` <span class=${pct >= 0 ? 'up' : 'down'}>${pct >= 0 ? '▲' : '▼'} ${Math.abs(pct)}%</span>`}
    </div>
  </div>`
}

export function Today() {
  const st = useLoad(() => daily('tenant', 30))
  return html`<div id="page-today">
    <${Load} state=${st}>${(s) => {
      const growth = [['new_members', series(s, 'new_members')], ['group_joins', series(s, 'group_joins')], ['active_members', series(s, 'active_members')]]
        .filter(([, v]) => v).map(([k, v]) => [t(k), v])
      const trade = [['orders', series(s, 'orders')], ['first_orders', series(s, 'first_orders')], ['check_ins', series(s, 'check_ins')], ['violations', series(s, 'violations')]]
        .filter(([, v]) => v).map(([k, v]) => [t(k), v])
      return html`
        <div class="kpis">${KPIS.map((k) => html`<${Kpi} k=${k} st=${s} />`)}</div>
        <div class="grid2">
          <${Card} title=${t('trend30') + ' · ' + t('members')} id="chart-members">
            ${growth.length ? html`<${Chart} id="today-members" option=${lineOption(s.days, growth, { area: true })} />` : html`<${Empty} />`}
          <//>
          <${Card} title=${t('trend30') + ' · ' + t('orders') + ' / ' + t('check_ins')} id="chart-trade">
            ${trade.length ? html`<${Chart} id="today-trade" option=${lineOption(s.days, trade, { bar: true })} />` : html`<${Empty} />`}
          <//>
        </div>`
    }}<//>
  </div>`
}
