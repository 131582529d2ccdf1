package money

import "strings"

// The active codes of ISO 4217 list one (as published 2026-01-01), by the number of
// minor-unit digits. Withdrawn codes (ANG, BGN, CUC, HRK, SLL, ZWL …) are absent,
// so an order in one is refused rather than guessed at. The codes whose minor unit
// ISO gives as "N.A." (precious metals XAU XAG XPD XPT, bond-market units
// XBA–XBD, XDR, XSU, XUA, and XTS, XXX) are absent too: an amount "in minor
// units" of them means nothing.
var byExponent = map[int]string{
	0: "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF",
	2: "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP " +
		"BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB " +
		"EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES " +
		"KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR " +
		"MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD " +
		"RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP " +
		"TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XAD XCD XCG YER ZAR ZMW ZWG",
	3: "BHD IQD JOD KWD LYD OMR TND",
	4: "CLF UYW",
}

var exponents = func() map[string]int {
	m := make(map[string]int, 170)
	for exp, codes := range byExponent {
		for _, c := range strings.Fields(codes) {
			m[c] = exp
		}
	}
	return m
}()

// Valid reports whether code is an active ISO 4217 currency code with a minor
// unit, written as ISO writes it: three upper-case letters. "cny", "ZZZ", "XAU" and
// the withdrawn "BGN" are not valid.
func Valid(code string) bool {
	_, ok := exponents[code]
	return ok
}

// Exponent returns the number of minor-unit digits of code: 0 for JPY and KRW, 2
// for CNY and USD, 3 for BHD and KWD, 4 for CLF. It fails with ErrCurrency for a
// code Valid refuses.
func Exponent(code string) (int, error) {
	e, ok := exponents[code]
	if !ok {
		return 0, ErrCurrency
	}
	return e, nil
}
