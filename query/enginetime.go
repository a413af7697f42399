package query

// fastEngineTime parses the engine's _time text as the engine writes it,
// RFC 3339 in UTC with an optional fraction of 1 to 9 digits
// ("2025-06-02T10:00:00.123Z"), for years 1970 to 2199, with exactly
// time.Parse(time.RFC3339Nano, s)'s result (TestFastEngineTime); ok=false
// for any other text, which parseEngineTime leaves to time.Parse. Building
// rows from the engine's blocks parses one per row, and time.Parse was a
// good part of that cost.
func fastEngineTime(s string) (int64, bool) {
	if len(s) < 20 || len(s) > 30 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len(s)-1] != 'Z' {
		return 0, false
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for j := i; j < i+n; j++ {
			c := s[j]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 2)
	day, ok3 := num(8, 2)
	hour, ok4 := num(11, 2)
	minute, ok5 := num(14, 2)
	sec, ok6 := num(17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || year < 1970 || year > 2199 ||
		month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	frac := 0
	switch rest := len(s) - 20; {
	case rest == 0:
	case rest >= 2 && s[19] == '.':
		n := rest - 1
		f, ok := num(20, n)
		if !ok {
			return 0, false
		}
		for ; n < 9; n++ {
			f *= 10
		}
		frac = f
	default:
		return 0, false
	}
	days := daysFromCivil(year, month, day)
	return ((days*24+int64(hour))*60+int64(minute))*60*1e9 + int64(sec)*1e9 + int64(frac), true
}

func daysInMonth(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days from 1970-01-01 to the date (proleptic
// Gregorian calendar).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400 // y >= 1969 here
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
