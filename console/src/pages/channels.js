import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { t } from '../i18n.js'
import { post } from '../api.js'
import { Card, Load, useLoad, Table, Form, money, idem } from '../ui.js'
import { Chart, funnelOption, lineOption } from '../chart.js'
import { lastDays, daily, funnels, series, pctOf } from '../stats.js'

// Channels: each channel's funnel over 30 days from GET /v1/stats/funnels
// (scan → contact → group → first order → repeat, with the route's rates) and
// each channel's daily group joins from GET /v1/stats/daily?scope=channel:<id>.
async function loadChannels() {
  const chans = await funnels(30)
  const days = lastDays(30)
  const scoped = await Promise.all(chans.map((c) => daily('channel:' + c.channel_id, 30)))
  chans.forEach((c, i) => { c.joins = series(scoped[i], 'group_joins') || days.map(() => 0) })
  return { chans, days }
}

const KEYS = ['scans', 'contacts', 'group_joins', 'first_orders', 'repeat_orders', 'gmv_minor']

// total adds the channels' funnels and works out the rates as the route does.
function total(chans) {
  const f = {}
  for (const k of KEYS) f[k] = chans.reduce((a, c) => a + (c[k] || 0), 0)
  const r = (a, b) => (b ? a / b : null)
  return { ...f, traffic_conversion: r(f.contacts, f.scans), group_rate: r(f.group_joins, f.contacts),
    purchase_conversion: r(f.first_orders, f.contacts), repurchase_rate: r(f.repeat_orders, f.first_orders + f.repeat_orders) }
}

export function Channels() {
  const st = useLoad(loadChannels)
  const [sel, setSel] = useState(null)
  const create = async (v) => { await post('/v1/channels', { name: v.name, code: v.code }, idem()); st.reload() }
  return html`<div id="page-channels">
    <${Load} state=${st}>${({ chans, days }) => {
      const c = chans.find((x) => x.channel_id === sel) || null
      const f = c || total(chans)
      const steps = [[t('scan'), f.scans], [t('contact'), f.contacts], [t('joinGroup'), f.group_joins], [t('firstOrder'), f.first_orders], [t('repeatOrder'), f.repeat_orders]]
      return html`
        <div class="grid2">
          <${Card} title=${t('funnel') + ' · ' + (c ? c.name : t('total'))} id="channel-funnel">
            <${Chart} id="funnel-chart" option=${funnelOption(steps)} />
            <div class="rates">
              <span>${t('trafficConv')} <b>${pctOf(f.traffic_conversion)}</b></span>
              <span>${t('purchaseConv')} <b>${pctOf(f.purchase_conversion)}</b></span>
              <span>${t('repurchase')} <b>${pctOf(f.repurchase_rate)}</b></span>
            </div>
          <//>
          <${Card} title=${t('trend30') + ' · ' + t('joinGroup')}>
            <${Chart} id="channel-trend" option=${lineOption(days, (c ? [c] : chans).map((x) => [x.name, x.joins]), { bar: true })} />
          <//>
        </div>
        <${Card} title=${t('channels')}>
          <${Table} id="channels-table" onRow=${(x) => setSel(x.channel_id === sel ? null : x.channel_id)} rows=${chans} cols=${[
            { label: t('name'), render: (x) => html`<b>${x.name}</b>` }, { label: t('code'), key: 'code' },
            { label: t('scan'), key: 'scans' }, { label: t('contact'), key: 'contacts' },
            { label: t('joinGroup'), key: 'group_joins' }, { label: t('firstOrder'), key: 'first_orders' },
            { label: t('repeatOrder'), key: 'repeat_orders' },
            { label: t('trafficConv'), render: (x) => pctOf(x.traffic_conversion) },
            { label: t('purchaseConv'), render: (x) => pctOf(x.purchase_conversion) },
            { label: t('repurchase'), render: (x) => pctOf(x.repurchase_rate) },
            { label: 'GMV', render: (x) => money(x.gmv_minor) }]} />
        <//>
        <${Card} title=${t('newChannel')}>
          <${Form} id="channel-form" submit=${create} fields=${[{ name: 'name', label: t('name'), required: true }, { name: 'code', label: t('code'), required: true }]} />
        <//>`
    }}<//>
  </div>`
}
