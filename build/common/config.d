build/common/config.o: common/config.c common/config.h common/util.h
common/config.h:
common/util.h:
