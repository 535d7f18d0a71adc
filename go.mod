module github.com/bestpatch/bestpatch

go 1.26.8
