// The numbers, in one place: the stats routes.
//   GET /v1/stats/daily?scope=tenant|group:<id>|channel:<id>&from&to — per-day
//     counters with `previous` (the same day a week before) and `growth`
//     ((this − previous) ÷ previous, absent when previous is 0);
//   GET /v1/stats/funnels — per channel: scan → contact → group → first order →
//     repeat, with the rates;
//   GET /v1/stats/groups — per group: joins, leaves, messages, active ratio.
import { get, all } from './api.js'

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

// daily returns {days, counts: {day: {counter: n}}, previous: {day: {…}},
// growth: {day: {counter: ratio}}, currency} for scope over the last n days.
export async function daily(scope = 'tenant', n = 30) {
  const days = lastDays(n)
  const res = await get(statsPath('daily', scope, days[0], days[days.length - 1]))
  const st = { days, counts: {}, previous: {}, growth: {}, currency: res.currency }
  for (const row of res.data || []) {
    const d = row.day || row.start
    st.counts[d] = row.counts || {}
    st.previous[d] = row.previous || {}
    st.growth[d] = row.growth || {}
  }
  return st
}

// funnels is every channel's funnel over the last n days.
export async function funnels(n = 30) {
  const days = lastDays(n)
  return (await get(`/v1/stats/funnels?from=${days[0]}&to=${days[days.length - 1]}`)).data || []
}

// groupStats is {group_id: stats} over the last n days.
export async function groupStats(n = 7) {
  const days = lastDays(n)
  const out = {}
  for (const g of await all(`/v1/stats/groups?from=${days[0]}&to=${days[days.length - 1]}`)) out[g.group_id] = g
  return out
}

// Counters the console shows, each with the names it may go by (the first
// present wins), so a renamed or added counter needs a line here only.
export const COUNTERS = {
  new_members: ['members_created', 'new_members'],
  group_joins: ['group_joins'],
  first_orders: ['first_orders'],
  repeat_orders: ['repeat_orders'],
  active_members: ['active_members'],
  messages: ['messages'],
  check_ins: ['check_ins'],
  orders: ['orders'],
  gmv: ['gmv_minor'],
  violations: ['violations'],
  churned: ['churned'],
}

export function value(dayCounts, key) {
  if (!dayCounts) return undefined
  for (const name of COUNTERS[key] || [key]) if (dayCounts[name] !== undefined) return dayCounts[name]
  return undefined
}

// series is the counter per day (0 on days without it), or null when no day has it.
export function series(st, key, from = st.counts) {
  let seen = false
  const vals = st.days.map((d) => {
    const v = value(from[d], key)
    if (v !== undefined) seen = true
    return v || 0
  })
  return seen ? vals : null
}

// weekOverWeek is the last 7 days against the 7 before, from the daily rows'
// `previous` (each day's same weekday a week earlier); today is the last day's
// value and its `growth` from the route. null when the counter never occurred.
export function weekOverWeek(st, key) {
  const s = series(st, key)
  const p = series(st, key, st.previous)
  if (!s && !p) return null
  const sum = (a) => (a || []).slice(-7).reduce((x, y) => x + y, 0)
  const cur = sum(s)
  const prev = sum(p)
  const last = st.days[st.days.length - 1]
  const g = value(st.growth[last], key)
  return { cur, prev, pct: prev ? (cur - prev) / prev : null, today: s ? s[s.length - 1] : 0, todayPct: g === undefined ? null : g }
}

// pctOf is a ratio as a percentage, — when there is none.
export const pctOf = (r) => (r === null || r === undefined ? '—' : Math.round(r * 1000) / 10 + '%')
