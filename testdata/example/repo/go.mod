module example.com/interval

go 1.22
