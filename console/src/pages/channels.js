import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { t } from '../i18n.js'
import { all, getOr, post } from '../api.js'
import { Card, Load, useLoad, Table, Form, money, idem } from '../ui.js'
import { Chart, funnelOption, lineOption } from '../chart.js'
import { lastDays, daily, value } from '../stats.js'

const sum = (days, k) => days.reduce((a, d) => a + (d[k] || 0), 0)

async function loadChannels() {
  const chans = await all('/v1/channels')
  const days = lastDays(30)
  const stats = await Promise.all(chans.map((c) => getOr(`/v1/channels/${c.id}/stats?from=${days[0]}&to=${days[29]}`, { data: [] })))
  // Repeat orders per channel come from the stats routes when they are there.
  const scoped = await Promise.all(chans.map((c) => daily('channel:' + c.id, 30).catch(() => ({ counts: {} }))))
  chans.forEach((c, i) => {
    const d = stats[i].data || []
    c.days = d
    c.funnel = { scans: sum(d, 'scans'), contacts: sum(d, 'members_added'), groups: sum(d, 'joined_group'), first: sum(d, 'first_orders'), gmv: sum(d, 'gmv_minor') }
    c.funnel.repeat = Object.values(scoped[i].counts || {}).reduce((a, x) => a + (value(x, 'repeat_orders') || 0), 0)
  })
  return { chans, days }
}

export function Channels() {
  const st = useLoad(loadChannels)
  const [sel, setSel] = useState(null)
  const create = async (v) => { await post('/v1/channels', { name: v.name, code: v.code }, idem()); st.reload() }
  return html`<div id="page-channels">
    <${Load} state=${st}>${({ chans, days }) => {
      const c = chans.find((x) => x.id === sel) || null
      const tot = c ? c.funnel : chans.reduce((a, x) => { for (const k in x.funnel) a[k] = (a[k] || 0) + x.funnel[k]; return a }, {})
      // Scans appear once something counts them (channel codes' own scans).
      const steps = [[t('scan'), tot.scans || 0], [t('contact'), tot.contacts || 0], [t('joinGroup'), tot.groups || 0], [t('firstOrder'), tot.first || 0], [t('repeatOrder'), tot.repeat || 0]]
        .filter(([, v], i) => i > 0 || v > 0)
      const rate = (a, b) => (b ? Math.round((a / b) * 1000) / 10 + '%' : '—')
      return html`
        <div class="grid2">
          <${Card} title=${t('funnel') + ' · ' + (c ? c.name : t('total'))} id="channel-funnel">
            <${Chart} id="funnel-chart" option=${funnelOption(steps)} />
            <div class="muted small">引流转换率 ${rate(tot.contacts, tot.scans)} · 成交转化率 ${rate(tot.first, tot.contacts)} · 复购率 ${rate(tot.repeat, tot.first)}</div>
          <//>
          <${Card} title=${t('trend30') + ' · ' + t('joinGroup')}>
            <${Chart} id="channel-trend" option=${lineOption(days, (c ? [c] : chans).map((x) => [x.name, days.map((d) => (x.days.find((y) => y.day === d) || {}).joined_group || 0)]), { bar: true })} />
          <//>
        </div>
        <${Card} title=${t('channels')}>
          <${Table} id="channels-table" onRow=${(x) => setSel(x.id === sel ? null : x.id)} rows=${chans} cols=${[
            { label: t('name'), render: (x) => html`<b>${x.name}</b>` }, { label: t('code'), key: 'code' },
            { label: t('scan'), render: (x) => x.funnel.scans }, { label: t('contact'), render: (x) => x.funnel.contacts },
            { label: t('joinGroup'), render: (x) => x.funnel.groups }, { label: t('firstOrder'), render: (x) => x.funnel.first },
            { label: 'GMV', render: (x) => money(x.funnel.gmv) }]} />
        <//>
        <${Card} title=${t('newChannel')}>
          <${Form} id="channel-form" submit=${create} fields=${[{ name: 'name', label: t('name'), required: true }, { name: 'code', label: t('code'), required: true }]} />
        <//>`
    }}<//>
  </div>`
}
