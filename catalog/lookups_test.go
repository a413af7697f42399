package catalog

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/dohyo/dohyo/query"
)

func mustCreateLookup(t *testing.T, c *Catalog, spec LookupSpec) *LookupTable {
	t.Helper()
	lt, err := c.CreateLookup(context.Background(), spec, "alice")
	if err != nil {
		t.Fatalf("CreateLookup(%+v): %v", spec, err)
	}
	return lt
}

func upload(t *testing.T, c *Catalog, id, csv string, merge bool) *LookupUpload {
	t.Helper()
	res, err := c.UploadLookupCSV(context.Background(), id, strings.NewReader(csv), merge, "alice")
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	return res
}

func rowsOf(t *testing.T, c *Catalog, id string) [][]string {
	t.Helper()
	_, rows, err := c.LookupRows(context.Background(), id, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestLookupCreateValidation(t *testing.T) {
	c, _ := openTest(t)
	ctx := context.Background()
	bad := []struct {
		spec LookupSpec
		want string
	}{
		{LookupSpec{Name: "", PrimaryKeys: []string{"a"}}, "empty"},
		{LookupSpec{Name: "/a/../b", PrimaryKeys: []string{"a"}}, "not a valid path segment"},
		{LookupSpec{Name: "x"}, "primaryKeys is required"},
		{LookupSpec{Name: "x", PrimaryKeys: []string{"a-b"}}, "letters, digits and _"},
		{LookupSpec{Name: "x", PrimaryKeys: []string{"a", "A"}}, "listed twice"},
		{LookupSpec{Name: "x", PrimaryKeys: []string{"a"}, Fields: []LookupField{{Name: "b"}}}, `primary key "a" is not one of the fields`},
		{LookupSpec{Name: "x", PrimaryKeys: []string{"a"}, Fields: []LookupField{{Name: "a", Type: "date"}}}, `column type "date"`},
		{LookupSpec{Name: "x", PrimaryKeys: []string{"a"}, Fields: []LookupField{{Name: "a"}, {Name: "A"}}}, "listed twice"},
	}
	for _, b := range bad {
		_, err := c.CreateLookup(ctx, b.spec, "")
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), b.want) {
			t.Errorf("CreateLookup(%+v) = %v; want ErrInvalid with %q", b.spec, err, b.want)
		}
	}
	lt := mustCreateLookup(t, c, LookupSpec{Name: "shared/Admins", PrimaryKeys: []string{"User"}, Description: "admins",
		Fields: []LookupField{{Name: "User"}, {Name: "Level", Type: "int"}}})
	if lt.Name != "/shared/Admins" || !reflect.DeepEqual(lt.PrimaryKeys, []string{"user"}) ||
		!reflect.DeepEqual(lt.Fields, []LookupField{{"user", "string"}, {"level", "long"}}) || lt.SizeLimitBytes != DefaultMaxLookupTableBytes {
		t.Errorf("created %+v", lt)
	}
	// The same name in another spelling or case is taken.
	for _, n := range []string{"/shared/admins", " shared//ADMINS/ "} {
		if _, err := c.CreateLookup(ctx, LookupSpec{Name: n, PrimaryKeys: []string{"a"}}, ""); !errors.Is(err, ErrConflict) {
			t.Errorf("CreateLookup(%q) = %v; want ErrConflict", n, err)
		}
	}
	got, err := c.GetLookupByName(ctx, "/SHARED/admins")
	if err != nil || got.ID != lt.ID || got.CreatedBy != "alice" {
		t.Errorf("GetLookupByName = %+v, %v", got, err)
	}
	if _, err := c.GetLookup(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetLookup(nope) = %v", err)
	}
	list, err := c.ListLookups(ctx)
	if err != nil || len(list) != 1 || list[0].ID != lt.ID {
		t.Errorf("ListLookups = %+v, %v", list, err)
	}
	if err := c.DeleteLookup(ctx, lt.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteLookup(ctx, lt.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete = %v", err)
	}
}

func TestLookupUploadReplaceAndMerge(t *testing.T) {
	c, _ := openTest(t)
	ctx := context.Background()
	lt := mustCreateLookup(t, c, LookupSpec{Name: "/Library/Users/me/admins", PrimaryKeys: []string{"user"}})
	res := upload(t, c, lt.ID, "\xef\xbb\xbf User , Role,Level\nalice,admin,3\n\"bob\",\"dev, ops\",1\n\nBOB,lead,2\n", false)
	if res.RowsRead != 3 || res.RowsWritten != 3 || res.RowsSkipped != 0 || res.RowCount != 2 || res.SizeBytes == 0 {
		t.Errorf("upload = %+v", res)
	}
	// BOB and bob are the same key: the later row wins, in place.
	if got := rowsOf(t, c, lt.ID); !reflect.DeepEqual(got, [][]string{{"alice", "admin", "3"}, {"BOB", "lead", "2"}}) {
		t.Errorf("rows = %q", got)
	}
	got, _ := c.GetLookup(ctx, lt.ID)
	if !reflect.DeepEqual(got.Fields, []LookupField{{"user", "string"}, {"role", "string"}, {"level", "string"}}) || got.RowCount != 2 || got.UpdatedBy != "alice" {
		t.Errorf("after the first upload: %+v", got)
	}
	// Merge: upsert by key, columns in any order.
	res = upload(t, c, lt.ID, "role,user,level\nowner,Carol,9\nadmin,ALICE,4\n", true)
	if res.RowsWritten != 2 || res.RowCount != 3 {
		t.Errorf("merge = %+v", res)
	}
	if got := rowsOf(t, c, lt.ID); !reflect.DeepEqual(got, [][]string{{"ALICE", "admin", "4"}, {"BOB", "lead", "2"}, {"Carol", "owner", "9"}}) {
		t.Errorf("rows after merge = %q", got)
	}
	if _, err := c.UploadLookupCSV(ctx, lt.ID, strings.NewReader("user,role\nx,y\n"), true, ""); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "differ from the table's") {
		t.Errorf("merge with other columns = %v", err)
	}
	// Replace may redefine the columns.
	res = upload(t, c, lt.ID, "user,team\nzed,red\n", false)
	if res.RowCount != 1 {
		t.Errorf("replace = %+v", res)
	}
	got, _ = c.GetLookup(ctx, lt.ID)
	if !reflect.DeepEqual(got.Fields, []LookupField{{"user", "string"}, {"team", "string"}}) {
		t.Errorf("fields after replace = %+v", got.Fields)
	}
	// Paging.
	upload(t, c, lt.ID, "user,team\na,1\nb,2\nc,3\nd,4\n", false)
	if _, rows, _ := c.LookupRows(ctx, lt.ID, 1, 2); !reflect.DeepEqual(rows, [][]string{{"b", "2"}, {"c", "3"}}) {
		t.Errorf("page = %q", rows)
	}
}

func TestLookupUploadErrors(t *testing.T) {
	c, _ := openTest(t)
	ctx := context.Background()
	lt := mustCreateLookup(t, c, LookupSpec{Name: "codes", PrimaryKeys: []string{"code"},
		Fields: []LookupField{{Name: "code", Type: "long"}, {Name: "meaning"}, {Name: "ok", Type: "boolean"}}})
	upload(t, c, lt.ID, "code,meaning,ok\n1,one,true\n", false)
	before := rowsOf(t, c, lt.ID)
	long := strings.Repeat("x", 1024)
	cases := []struct {
		csv, want string
	}{
		{"", "the file is empty"},
		{"code,meaning\n1,a\n", `line 1: the header's columns (code, meaning) differ`},
		{"meaning,ok\na,true\n", `line 1: the header has no column "code"`},
		{"code,meaning,ok,code\n", `line 1: column "code" appears twice`},
		{"code,mean-ing,ok\n", "line 1: header"},
		{"code,meaning,ok\n2,two,true\n3,three\n4,four,false\n", "line 3: 2 fields, but the header has 3"},
		{"code,meaning,ok\n2,two,true\n\n\n3,a,b,c\n", "line 5: 4 fields"},
		{"code,meaning,ok\n2,\"two,true\n", "line 2"},
		{"code,meaning,ok\n2,t\"wo,true\n", "line 2, column"},
		{"code,meaning,ok\n2," + long + ",true\n", "line 2, column 3: the value of meaning is 1024 bytes long; the limit is 1023"},
	}
	for _, cs := range cases {
		_, err := c.UploadLookupCSV(ctx, lt.ID, strings.NewReader(cs.csv), true, "")
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), cs.want) {
			t.Errorf("upload %q = %v; want ErrInvalid with %q", cs.csv, err, cs.want)
		}
		if got := rowsOf(t, c, lt.ID); !reflect.DeepEqual(got, before) {
			t.Errorf("a rejected file changed the table: %q", got)
		}
	}
	// A replacing upload that fails half-way changes nothing either.
	if _, err := c.UploadLookupCSV(ctx, lt.ID, strings.NewReader("code,meaning,ok\n5,five,true\n6,six\n"), false, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad replace: %v", err)
	}
	if got := rowsOf(t, c, lt.ID); !reflect.DeepEqual(got, before) {
		t.Errorf("a rejected replace changed the table: %q", got)
	}
	// Type mismatches skip rows and say which.
	upload(t, c, lt.ID, "code,meaning,ok\n1,one,true\n", false)
	res := upload(t, c, lt.ID, "code,meaning,ok\nx,bad code,true\n2,two,TRUE\n3,three,maybe\n42,answer,false\n4.5,not a long,false\n", true)
	if res.RowsRead != 5 || res.RowsWritten != 2 || res.RowsSkipped != 3 || !reflect.DeepEqual(res.SkippedLines, []int{2, 4, 6}) ||
		res.SkipReason != `line 2: value "x" of column code is not a long` {
		t.Errorf("skips = %+v", res)
	}
	if _, err := c.UploadLookupCSV(ctx, "nope", strings.NewReader("a\n"), false, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown table: %v", err)
	}
}

func TestLookupSizeLimit(t *testing.T) {
	c, _ := openTest(t)
	ctx := context.Background()
	c.SetMaxLookupTableBytes(300)
	if c.MaxLookupTableBytes() != 300 {
		t.Fatal("limit not set")
	}
	lt := mustCreateLookup(t, c, LookupSpec{Name: "small", PrimaryKeys: []string{"k"}})
	var b strings.Builder
	b.WriteString("k,v\n")
	for i := range 10 {
		fmt.Fprintf(&b, "key%d,value number %d\n", i, i)
	}
	upload(t, c, lt.ID, b.String(), false) // about 25 bytes a row
	for i := 10; i < 20; i++ {
		fmt.Fprintf(&b, "key%d,value number %d\n", i, i)
	}
	_, err := c.UploadLookupCSV(ctx, lt.ID, strings.NewReader(b.String()), false, "")
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "over its size limit of 300 bytes") {
		t.Fatalf("upload over the limit: %v", err)
	}
	got, _ := c.GetLookup(ctx, lt.ID)
	if got.RowCount != 10 || got.SizeBytes != 250 || got.SizeLimitBytes != 300 {
		t.Errorf("after the refused upload: %+v", got)
	}
	// save is bound by the same limit.
	sv := &query.LookupSave{Name: "small", Columns: []string{"k", "v"}, Rows: [][]string{{"x", strings.Repeat("y", 300)}}, Append: true}
	if err := c.SaveLookup(ctx, sv); err == nil || !strings.Contains(err.Error(), "size limit") {
		t.Errorf("save over the limit: %v", err)
	}
	c.SetMaxLookupTableBytes(0)
	if c.MaxLookupTableBytes() != DefaultMaxLookupTableBytes {
		t.Error("default limit not restored")
	}
}

func TestLookupLoadAndSave(t *testing.T) {
	c, _ := openTest(t)
	ctx := context.Background()
	if _, err := c.LoadLookup(ctx, "/nope"); !errors.Is(err, query.ErrLookupNotFound) {
		t.Errorf("LoadLookup(/nope) = %v", err)
	}
	lt := mustCreateLookup(t, c, LookupSpec{Name: "/shared/codes", PrimaryKeys: []string{"code"},
		Fields: []LookupField{{Name: "code", Type: "double"}, {Name: "meaning"}}})
	upload(t, c, lt.ID, "code,meaning\n42,answer\n7,lucky\n", false)
	t1, err := c.LoadLookup(ctx, "/SHARED/codes")
	if err != nil {
		t.Fatal(err)
	}
	if t1.Name != "/shared/codes" || !reflect.DeepEqual(t1.PrimaryKey, []string{"code"}) ||
		!reflect.DeepEqual(t1.Columns, []query.LookupColumn{{Name: "code", Type: "double"}, {Name: "meaning", Type: "string"}}) ||
		!reflect.DeepEqual(t1.Rows, [][]string{{"42", "answer"}, {"7", "lucky"}}) {
		t.Errorf("loaded %+v", t1)
	}
	// Cached until the table changes.
	if t2, _ := c.LoadLookup(ctx, "/shared/codes"); t2 != t1 {
		t.Error("second load did not use the cache")
	}
	// Numeric keys compare by value: 42.0 is the row 42.
	upload(t, c, lt.ID, "code,meaning\n42.0,the answer\n", true)
	t3, _ := c.LoadLookup(ctx, "/shared/codes")
	if t3 == t1 || !reflect.DeepEqual(t3.Rows, [][]string{{"42.0", "the answer"}, {"7", "lucky"}}) {
		t.Errorf("after merge: %q (same table: %v)", t3.Rows, t3 == t1)
	}

	// save into a new table: its columns and key come from the results.
	sv := &query.LookupSave{Name: "shared/users", Columns: []string{"user", "_count"}, Types: []string{"string", "long"},
		PrimaryKey: []string{"user"}, Rows: [][]string{{"alice", "3"}, {"bob", "1"}}, User: "bob"}
	if err := c.SaveLookup(ctx, sv); err != nil {
		t.Fatal(err)
	}
	nt, err := c.GetLookupByName(ctx, "/shared/users")
	if err != nil || nt.CreatedBy != "bob" || nt.RowCount != 2 ||
		!reflect.DeepEqual(nt.Fields, []LookupField{{"user", "string"}, {"_count", "long"}}) {
		t.Errorf("saved table %+v, %v", nt, err)
	}
	// Append merges by key (case-insensitive); extra result columns are
	// dropped; a missing column or a bad value fails.
	sv = &query.LookupSave{Name: "/shared/users", Columns: []string{"_count", "user", "extra"}, Rows: [][]string{{"5", "ALICE", "x"}, {"1", "carol", "y"}}, Append: true}
	if err := c.SaveLookup(ctx, sv); err != nil {
		t.Fatal(err)
	}
	if got := rowsOf(t, c, nt.ID); !reflect.DeepEqual(got, [][]string{{"ALICE", "5"}, {"bob", "1"}, {"carol", "1"}}) {
		t.Errorf("rows after append = %q", got)
	}
	sv = &query.LookupSave{Name: "/shared/users", Columns: []string{"user"}, Rows: [][]string{{"dave"}}}
	if err := c.SaveLookup(ctx, sv); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "the results have no field _count") {
		t.Errorf("save without a column: %v", err)
	}
	sv = &query.LookupSave{Name: "/shared/users", Columns: []string{"user", "_count"}, Rows: [][]string{{"dave", "many"}}}
	if err := c.SaveLookup(ctx, sv); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `result 1: value "many" of column _count is not a long`) {
		t.Errorf("save with a bad value: %v", err)
	}
	// Replace.
	sv = &query.LookupSave{Name: "/shared/users", Columns: []string{"user", "_count"}, Rows: [][]string{{"erin", "2"}}}
	if err := c.SaveLookup(ctx, sv); err != nil {
		t.Fatal(err)
	}
	if got := rowsOf(t, c, nt.ID); !reflect.DeepEqual(got, [][]string{{"erin", "2"}}) {
		t.Errorf("rows after replace = %q", got)
	}
	// Nothing to create a table from.
	if err := c.SaveLookup(ctx, &query.LookupSave{Name: "/empty"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("save of nothing: %v", err)
	}
}
