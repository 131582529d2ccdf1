// The console is one more client of the public API: every screen reads and writes
// through these few functions, with the staff member's ID token as the bearer.

const SESSION = 'tribe.console.session'

// The API's origin: the same as the console's unless the page sets
// window.TRIBE_API (the stack's hosting does, when the API has its own domain).
export const apiBase = () => (window.TRIBE_API || '').replace(/\/$/, '')

export const session = {
  get() {
    try { return JSON.parse(localStorage.getItem(SESSION)) } catch { return null }
  },
  set(s) { localStorage.setItem(SESSION, JSON.stringify(s)) },
  clear() { localStorage.removeItem(SESSION) },
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title || body.message)) || `HTTP ${status}`)
    this.status = status
    this.body = body || {}
    this.field = this.body.field
  }
}

let onLogout = () => {}
export function setLogoutHandler(fn) { onLogout = fn }

let refreshing = null
async function refresh(s) {
  if (!s || !s.refresh_token) return false
  refreshing = refreshing || fetch(apiBase() + '/v1/staff/refresh', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: s.refresh_token }),
  }).then(async (r) => {
    if (!r.ok) return false
    const t = await r.json()
    session.set({ ...s, id_token: t.id_token, access_token: t.access_token })
    return true
  }).catch(() => false).finally(() => { refreshing = null })
  return refreshing
}

export async function api(method, path, body, headers = {}) {
  const s = session.get()
  const send = () => fetch(apiBase() + path, {
    method,
    headers: {
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(session.get() ? { Authorization: 'Bearer ' + session.get().id_token } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  let r = await send()
  // The gateway answers an expired or refused token with 403 {"message":"Forbidden"}.
  if ((r.status === 401 || r.status === 403) && s && !path.startsWith('/v1/staff/login')) {
    const plain = r.headers.get('content-type') || ''
    if (!plain.includes('problem') && await refresh(s)) r = await send()
    else if (!plain.includes('problem')) { onLogout(); throw new ApiError(r.status, { title: 'session expired' }) }
  }
  if (r.status === 204) return null
  const ct = r.headers.get('content-type') || ''
  const data = ct.includes('json') ? await r.json().catch(() => null) : await r.text()
  if (!r.ok) throw new ApiError(r.status, data)
  return data
}

export const get = (path) => api('GET', path)
export const post = (path, body, key) => api('POST', path, body, key ? { 'Idempotency-Key': key } : {})
export const put = (path, body) => api('PUT', path, body)
export const patch = (path, body) => api('PATCH', path, body)
export const del = (path) => api('DELETE', path)

// getOr answers fallback when the thing is not there (404) or the call is not
// allowed (403).
export async function getOr(path, fallback) {
  try { return await get(path) } catch (e) {
    if (e.status === 404 || e.status === 403 || e.status === 405) return fallback
    throw e
  }
}

// all reads every page of a list (up to max items).
export async function all(path, max = 500) {
  const out = []
  let cursor = ''
  const sep = path.includes('?') ? '&' : '?'
  while (out.length < max) {
    const page = await get(path + sep + 'limit=100' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''))
    out.push(...(page.data || []))
    if (!page.next_cursor) break
    cursor = page.next_cursor
  }
  return out
}

// image fetches an authenticated image (a QR code) as an object URL.
export async function image(path) {
  const s = session.get()
  const r = await fetch(apiBase() + path, { headers: s ? { Authorization: 'Bearer ' + s.id_token } : {} })
  if (!r.ok) throw new ApiError(r.status, null)
  return URL.createObjectURL(await r.blob())
}

export async function login(email, password) {
  const s = await api('POST', '/v1/staff/login', { email, password })
  session.set(s)
  return s
}
