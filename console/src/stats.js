// The numbers, in one place. Today they come from GET /v1/stats/daily (per-day
// counters of the tenant, asked with scope=tenant); the stats routes
// GET /v1/stats/{daily|weekly|monthly}?scope=… slot in by changing statsPath
// alone. A counter or route that is missing is an empty series, never an error.
import { get } from './api.js'

export const statsPath = (period, scope, from, to) =>
  `/v1/stats/${period}?scope=${encodeURIComponent(scope)}&from=${from}&to=${to}`

const pad = (n) => String(n).padStart(2, '0')
export const isoDay = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`

// lastDays is the n local days up to today, oldest first.
export function lastDays(n) {
  const out = []
  const now = new Date()
  for (let i = n - 1; i >= 0; i--) {
    const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() - i)
    out.push(isoDay(d))
  }
  return out
}

// daily returns {days: [...], counts: {day: {counter: n}}, ok} for scope over the
// last n days; ok is false when the route is not there.
export async function daily(scope = 'tenant', n = 30) {
  const days = lastDays(n)
  const counts = {}
  let ok = true
  try {
    const res = await get(statsPath('daily', scope, days[0], days[days.length - 1]))
    for (const row of res.data || []) counts[row.day] = { ...(row.counts || {}) }
  } catch (e) {
    if (e.status !== 404 && e.status !== 400) throw e
    ok = false
  }
  if (scope === 'tenant') await addChannelDays(days, counts)
  return { days, counts, ok }
}

// addChannelDays adds the channels' own day counters (GET /v1/channels/{id}/stats)
// under channel_* names: the tenant's scans, joins through a channel, first
// orders and GMV until the tenant counters carry their own.
async function addChannelDays(days, counts) {
  try {
    const chans = (await get('/v1/channels?limit=100')).data || []
    const rows = await Promise.all(chans.map((c) => get(`/v1/channels/${c.id}/stats?from=${days[0]}&to=${days[days.length - 1]}`).then((r) => r.data || [], () => [])))
    for (const list of rows) {
      for (const r of list) {
        const c = (counts[r.day] = counts[r.day] || {})
        for (const [k, name] of [['scans', 'channel_scans'], ['joined_group', 'channel_group_joins'], ['first_orders', 'channel_first_orders'], ['gmv_minor', 'channel_gmv_minor']]) {
          c[name] = (c[name] || 0) + (r[k] || 0)
        }
      }
    }
  } catch { /* no channels route: nothing to add */ }
}

// Counters the console shows, each with the names it may go by (the first
// present wins), so a renamed or added counter needs a line here only.
export const COUNTERS = {
  new_members: ['new_members', 'members_created'],
  group_joins: ['group_joins', 'channel_group_joins'],
  scans: ['scans', 'channel_scans'],
  first_orders: ['first_orders', 'channel_first_orders'],
  active_members: ['active_members'],
  messages: ['messages'],
  check_ins: ['check_ins'],
  orders: ['orders'],
  gmv: ['gmv_minor', 'gmv', 'channel_gmv_minor'],
  violations: ['violations'],
  churned: ['churned'],
}

export function value(dayCounts, key) {
  if (!dayCounts) return undefined
  for (const name of COUNTERS[key] || [key]) if (dayCounts[name] !== undefined) return dayCounts[name]
  return undefined
}

// series is the counter per day (0 on days without it), or null when no day has it.
export function series(st, key) {
  let seen = false
  const vals = st.days.map((d) => {
    const v = value(st.counts[d], key)
    if (v !== undefined) seen = true
    return v || 0
  })
  return seen ? vals : null
}

// weekOverWeek sums the last 7 days and the 7 before.
export function weekOverWeek(st, key) {
  const s = series(st, key)
  if (!s) return null
  const sum = (a) => a.reduce((x, y) => x + y, 0)
  const cur = sum(s.slice(-7))
  const prev = sum(s.slice(-14, -7))
  return { cur, prev, pct: prev ? (cur - prev) / prev : null }
}
