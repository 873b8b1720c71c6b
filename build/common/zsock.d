build/common/zsock.o: common/zsock.c common/log.h common/zsock.h \
 common/config.h
common/log.h:
common/zsock.h:
common/config.h:
